"""`TCP connections` from the Checkmk agent's `<<<tcp_conn_stats>>>` (real captures), and from
ours: the same counts by state, judged only where a rule sets levels."""

from __future__ import annotations

from tests.conftest import agent_section, results
from watchkeeper.checkapi import Fixed, State
from watchkeeper.plugins.tcp.connections import TcpParams, check_tcp, parse_tcp_conn_stats


def test_the_real_counts_by_state() -> None:
    counts = parse_tcp_conn_stats(agent_section("checkmk-2.3.0b1-debian12-degraded.txt", "tcp_conn_stats"))
    assert counts == {"time_wait": 4, "listen": 1}
    found = results(check_tcp("", TcpParams(), counts, {}, 0.0))
    assert {r.state for r in found} == {State.OK}
    assert [r.summary for r in found] == ["TIME_WAIT: 4", "LISTEN: 1"]


def test_levels_from_a_rule() -> None:
    found = results(check_tcp("", TcpParams(time_wait=Fixed(2.0, 3.0)), {"time_wait": 4}, {}, 0.0))
    assert found[0].state == State.CRIT


def test_lines_that_are_no_state_are_not_counted() -> None:
    assert parse_tcp_conn_stats([["0Z", "5"], ["01", "-3"], ["01", "9" * 400], ["01", "2"]]) == {"established": 2}
