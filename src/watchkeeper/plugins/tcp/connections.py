"""TCP connections by state, from `<<<tcp_conn_stats>>>`: the state's hex code as in
/proc/net/tcp, and how many sockets are in it.

    06 7
    0A 1

Told, with a metric per state, and judged only where a rule sets levels (a pile-up of
TIME_WAIT or SYN_RECV is the usual sign of trouble).
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Levels,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    check_levels,
    render,
    to_int,
)

STATES = {"01": "established", "02": "syn_sent", "03": "syn_recv", "04": "fin_wait1", "05": "fin_wait2",
          "06": "time_wait", "07": "close", "08": "close_wait", "09": "last_ack", "0A": "listen", "0B": "closing"}


def parse_tcp_conn_stats(table: StringTable) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in table:
        if len(row) == 2 and row[0].upper() in STATES and (count := to_int(row[1])) is not None and count >= 0:
            name = STATES[row[0].upper()]
            counts[name] = counts.get(name, 0) + count
    return counts


@dataclass(frozen=True, slots=True)
class TcpParams:
    established: Levels | None = None
    time_wait: Levels | None = None
    syn_recv: Levels | None = None
    close_wait: Levels | None = None


def discover_tcp(section: dict[str, int]) -> DiscoveryResult:
    yield Service()


def check_tcp(item: str, params: TcpParams, section: dict[str, int], store: ValueStore, now: float) -> CheckResult:
    if not section:
        yield Result(State.OK, "no TCP connections")
    for name in STATES.values():
        count = section.get(name, 0)
        levels = getattr(params, name, None)
        if count or levels is not None:
            yield from check_levels(float(count), levels_upper=levels, metric_name=f"tcp_{name}",
                                    label=name.upper(), render_func=render.count)


tcp_conn_stats_section = AgentSection("tcp_conn_stats", parse_tcp_conn_stats)

tcp_connections = CheckPlugin(
    name="tcp_connections",
    section="tcp_conn_stats",
    title="TCP connections",
    discover=discover_tcp,
    check=check_tcp,
    default_params=TcpParams(),
)
