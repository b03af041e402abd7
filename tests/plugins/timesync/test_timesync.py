"""`Time sync` from whichever daemon keeps the clock, on real outputs: chronyd synchronised and
never synchronised (run here), ntpd's peer lists through the Checkmk agent's own `sed` (public
bug reports), systemd-timesyncd's status (its manual page)."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import agent_section, fixtures, results, section_from_file
from watchkeeper.checkapi import State
from watchkeeper.plugins.timesync.sources import TimeSync, parse_chrony, parse_ntp, parse_timesyncd
from watchkeeper.plugins.timesync.timesync import TimeSyncParams, check_timesync

FIXTURES = fixtures(__file__)
# What the Checkmk agent does to `ntpq -np` before it sends <<<ntp>>>: headers cut, the tally
# code split off, a blank tally written as `%`.
AGENT_SED = ["sed", "-e", "1,2d", "-e", r"s/^\(.\)/\1 /", "-e", "s/^ /%/"]


def ntp_through_the_agent(name: str) -> TimeSync:
    sent = subprocess.run([*AGENT_SED, str(FIXTURES / "ntpq_p" / name)], capture_output=True, check=True).stdout
    parsed = parse_ntp([line.split() for line in sent.decode().splitlines()])
    assert parsed is not None
    return parsed


def verdict(sync: TimeSync, now: float = 0.0) -> tuple[State, str]:
    found = results(check_timesync("", TimeSyncParams(), sync, {}, now))
    return State.worst(*(r.state for r in found)), found[0].summary


def test_chrony_synchronised_to_a_local_server() -> None:
    sync = parse_chrony(agent_section("checkmk-2.3.0b1-debian12-degraded.txt", "chrony"))
    assert sync is not None and (sync.synchronised, sync.server, sync.stratum) == (True, "127.0.0.1", 9)
    assert sync.offset_seconds == pytest.approx(0.000000702)
    assert verdict(sync) == (State.OK, "chrony synchronised to 127.0.0.1")


def test_chrony_without_sources_is_crit() -> None:
    sync = parse_chrony(section_from_file(FIXTURES / "chronyc_tracking" / "no_sources_not_synchronised.txt", "chrony"))
    assert sync is not None and sync.synchronised is False
    assert verdict(sync)[0] == State.CRIT and "not synchronised" in verdict(sync)[1]


def test_chrony_that_does_not_answer_is_unknown_with_its_message() -> None:
    sync = parse_chrony([["506", "Cannot", "talk", "to", "daemon"]])
    assert sync is not None
    assert verdict(sync) == (State.UNKNOWN, "chrony gave no synchronisation state: 506 Cannot talk to daemon")


def test_ntpd_with_a_pps_system_peer_and_names_with_spaces() -> None:
    sync = ntp_through_the_agent("telegraf_issue_2386_pps_syspeer.txt")
    assert (sync.synchronised, sync.server, sync.stratum) == (True, "SHM(0)", 1)
    assert sync.offset_seconds == pytest.approx(0.000045)
    assert "+ 37.58.57.238 (domain) stratum 2 reach 377" in sync.notes
    assert verdict(sync)[0] == State.OK


def test_ntpd_just_started_has_no_system_peer_and_is_crit() -> None:
    sync = ntp_through_the_agent("pool_startup_reach1_no_syspeer.txt")
    assert sync.synchronised is False and len(sync.notes) == 2
    assert verdict(sync)[0] == State.CRIT


def test_timesyncd_from_its_manual_with_the_age_of_the_last_sync() -> None:
    table = section_from_file(FIXTURES / "timedatectl" / "manpage_timesync_status.txt", "timesyncd")
    sync = parse_timesyncd([*table, ["[[[1796000000]]]"], ["<<<timesyncd_ntpmessage>>>"], ["NTPMessage={ Leap=0 }"]])
    assert sync is not None
    assert (sync.synchronised, sync.server, sync.stratum) == (True, "216.239.38.15 (time4.google.com)", 1)
    assert sync.offset_seconds == pytest.approx(316e-6) and sync.last_sync == 1796000000.0
    assert verdict(sync, now=1796000000.0 + 600)[0] == State.OK
    assert verdict(sync, now=1796000000.0 + 7 * 3600)[0] == State.CRIT

