from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from watchkeeper.errors import ConfigError
from watchkeeper.model.calendar import parse_window

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, zone: ZoneInfo = BERLIN) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def test_a_sunday_window_covers_sunday_night_only() -> None:
    window = parse_window("sun 02:00-04:00", "Europe/Berlin")
    assert window.contains(at("2026-11-22T02:00"))
    assert window.contains(at("2026-11-22T03:59"))
    assert not window.contains(at("2026-11-22T04:00"))
    assert not window.contains(at("2026-11-21T03:00"))  # a Saturday


def test_working_hours_and_a_window_across_midnight() -> None:
    hours = parse_window("mon-fri 08:00-18:00")
    assert hours.contains(at("2026-11-23T09:00", ZoneInfo("UTC")))
    assert not hours.contains(at("2026-11-22T09:00", ZoneInfo("UTC")))
    night = parse_window("fri 22:00-06:00")
    assert night.contains(at("2026-11-28T05:00", ZoneInfo("UTC")))  # Saturday morning, from Friday
    assert not night.contains(at("2026-11-29T05:00", ZoneInfo("UTC")))


def test_on_the_spring_forward_sunday_the_window_starts_when_the_clock_jumps() -> None:
    window = parse_window("sun 02:00-04:00", "Europe/Berlin")
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 04:00 CEST is 02:00 UTC.
    utc = ZoneInfo("UTC")
    assert not window.contains(at("2026-03-29T00:59", utc))
    assert window.contains(at("2026-03-29T01:00", utc))
    assert window.contains(at("2026-03-29T01:59", utc))
    assert not window.contains(at("2026-03-29T02:00", utc))


def test_on_the_fall_back_sunday_the_window_lasts_three_hours() -> None:
    window = parse_window("sun 02:00-04:00", "Europe/Berlin")
    # 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:00 CEST is 00:00 UTC, 04:00 CET is 03:00 UTC.
    utc = ZoneInfo("UTC")
    assert window.contains(at("2026-10-25T00:00", utc))
    assert window.contains(at("2026-10-25T02:59", utc))
    assert not window.contains(at("2026-10-25T03:00", utc))
    assert not window.contains(at("2026-10-24T23:59", utc))


def test_next_start_of_a_daily_window() -> None:
    window = parse_window("daily 07:00-07:00", "UTC")
    assert window.next_start(at("2026-11-21T08:00", ZoneInfo("UTC"))) == at("2026-11-22T07:00", ZoneInfo("UTC"))


@pytest.mark.parametrize("spec", ["sunday 02:00-04:00", "sun 2-4", "sun 25:00-26:00", "mon-xyz 08:00-09:00", ""])
def test_a_window_that_is_not_understood_says_how_to_write_one(spec: str) -> None:
    with pytest.raises(ConfigError, match="time window"):
        parse_window(spec)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ConfigError, match="time zone"):
        parse_window("sun 02:00-04:00", "Mars/Olympus")
