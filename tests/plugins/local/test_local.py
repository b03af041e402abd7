"""Local checks from the real Checkmk agent running real scripts: each line a service with its
state, metrics and levels; `P` lines judged by their levels; a cached script goes stale; broken
lines are named on `Local checks` and on the `Agent` service, never dropped silently."""

from __future__ import annotations

from tests.conftest import agent_output, fixtures, outcomes, results
from watchkeeper.checkapi import Metric, NoParams, State
from watchkeeper.collect.sections import split_sections
from watchkeeper.model.cycles import AGENT_SERVICE
from watchkeeper.plugins.local.local import LocalSection, check_local, parse_local

RAW = (fixtures(__file__) / "checkmk_agent" / "agent_2.3.0b1_local_cases.txt").read_bytes()
CACHED_AT = 1796026106.0


def section() -> LocalSection:
    parsed = parse_local(split_sections(RAW).sections["local"])
    assert parsed is not None
    return parsed


def test_each_good_line_is_a_service_with_its_state() -> None:
    seen = outcomes(RAW, now=CACHED_AT + 5)
    expected = {"Backup to NAS": State.OK, "Queue length": State.OK, "Temperature": State.CRIT,
                "Cert_expiry": State.WARN, "Raid_tool": State.UNKNOWN, "Mirror sync": State.OK,
                "Hourly_report": State.OK}
    assert {name: seen[name].state for name in expected} == expected
    assert seen["Temperature"].summary.startswith("board temperature: temp 71 (levels 60/70)")
    assert seen["Mirror sync"].summary == "in sync"
    assert seen["Mirror sync"].details == "last resync: 2026-11-02\nmembers: sda2 sdb2"


def test_broken_lines_are_named_not_dropped() -> None:
    parsed = section()
    assert len(parsed.unread) == 5
    assert any("the state 'OK' is not 0, 1, 2, 3 or P" in line for line in parsed.unread)
    assert any("the quoted service name does not end" in line for line in parsed.unread)
    assert any("the metrics 'used=lots'" in line for line in parsed.unread)
    seen = outcomes(RAW, now=CACHED_AT + 5)
    assert seen["Local checks"].state == State.WARN
    assert seen["Local checks"].summary.startswith("7 local checks, 5 lines not understood")
    assert seen[AGENT_SERVICE].state == State.WARN
    assert "<<<local>>>: 5 lines not understood" in seen[AGENT_SERVICE].summary


def test_metrics_carry_levels_and_bounds() -> None:
    metrics = {m.name: m for m in check_local("Backup to NAS", NoParams(), section(), {}, CACHED_AT)
               if isinstance(m, Metric)}
    assert metrics["age"].levels == (90000.0, 172800.0)
    assert metrics["size"].value == 52428800.0 and metrics["size"].boundaries == (0.0, None)


def test_a_cached_script_older_than_two_intervals_is_stale_and_a_vanished_one_unknown() -> None:
    assert results(check_local("Hourly_report", NoParams(), section(), {}, CACHED_AT + 599))[0].state == State.OK
    stale = results(check_local("Hourly_report", NoParams(), section(), {}, CACHED_AT + 601))[0]
    assert stale.state == State.UNKNOWN and stale.summary.startswith("stale:")
    gone = results(check_local("Old script", NoParams(), section(), {}, CACHED_AT))[0]
    assert gone.state == State.UNKNOWN and "no longer print 'Old script'" in gone.summary


def test_the_local_checks_of_the_degraded_capture() -> None:
    seen = outcomes(agent_output("checkmk-2.3.0b1-debian12-degraded.txt").read_bytes())
    assert seen["Nightly rsync"].state == State.OK and seen["Spool usage"].state == State.WARN
    assert seen["Local checks"].summary == "3 local checks"
