"""Weekly windows of wall-clock time in a time zone, written as people write them:

    sun 02:00-04:00          every Sunday, two hours
    mon-fri 08:00-18:00      working hours
    sat,sun 00:00-24:00      the whole weekend
    daily 22:00-06:00        every night, across midnight

Recurring downtimes and notification time periods use them. A window follows the local
clock across daylight-saving changes. On the spring-forward day a window starting at a time
that does not exist (02:00 in Europe/Berlin) starts when the clock jumps, so
`sun 02:00-04:00` lasts one hour that day; on the fall-back day it starts at the first 02:00
and lasts three hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watchkeeper.errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(r"\s*(?P<days>[a-z,-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*")


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    days: frozenset[int]
    """Weekdays on which the window starts, Monday = 0."""
    start: time
    end_minutes: int
    """Minutes after the start day's midnight at which it ends; over 1440 when it crosses midnight."""
    zone: str
    spec: str

    def contains(self, ts: float) -> bool:
        tz = ZoneInfo(self.zone)
        today = datetime.fromtimestamp(ts, tz).date()
        for day in (today - timedelta(days=1), today):
            if day.weekday() in self.days:
                start, end = self._bounds(day, tz)
                if start <= ts < end:
                    return True
        return False

    def next_start(self, ts: float) -> float:
        """The first start of the window after `ts`."""
        tz = ZoneInfo(self.zone)
        today = datetime.fromtimestamp(ts, tz).date()
        for offset in range(8):
            day = today + timedelta(days=offset)
            if day.weekday() in self.days:
                start, _ = self._bounds(day, tz)
                if start > ts:
                    return start
        raise AssertionError("a weekly window starts at least once in eight days")

    def _bounds(self, day: date, tz: ZoneInfo) -> tuple[float, float]:
        start = datetime.combine(day, self.start, tz).timestamp()
        end_day = day + timedelta(days=self.end_minutes // 1440)
        minutes = self.end_minutes % 1440
        end = datetime.combine(end_day, time(minutes // 60, minutes % 60), tz).timestamp()
        return start, end


def check_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"time zone {zone!r} is not known; use a name such as Europe/Berlin or UTC") from exc
    return zone


def parse_window(spec: str, zone: str = "UTC") -> WeeklyWindow:
    """`DAYS HH:MM-HH:MM`; DAYS is `daily`, a day (`sun`), a list (`sat,sun`) or a range (`mon-fri`)."""
    match = _SPEC.fullmatch(spec.lower())
    if not match:
        raise ConfigError(f"time window {spec!r} is not understood; write e.g. 'sun 02:00-04:00', "
                          "'mon-fri 08:00-18:00' or 'daily 22:00-06:00'")
    days = _parse_days(match["days"], spec)
    start, end = _minutes(match["start"], spec), _minutes(match["end"], spec)
    if start >= 1440:
        raise ConfigError(f"time window {spec!r}: a window starts before 24:00")
    if end <= start:
        end += 1440  # crosses midnight
    return WeeklyWindow(frozenset(days), time(start // 60, start % 60), end, check_zone(zone), spec.strip())


def _parse_days(text: str, spec: str) -> set[int]:
    if text == "daily":
        return set(range(7))
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ConfigError(f"time window {spec!r}: days are mon tue wed thu fri sat sun, "
                              "a list (sat,sun), a range (mon-fri) or daily")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return days


def _minutes(text: str, spec: str) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ConfigError(f"time window {spec!r}: {text} is not a time of day (00:00 to 24:00)")
    return hours * 60 + minutes
