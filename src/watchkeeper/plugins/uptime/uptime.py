"""Time since boot from `<<<uptime>>>`: seconds up and idle (or only seconds up).

    426.10 707.68
"""

from __future__ import annotations

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    NoParams,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    render,
    to_float,
)


def parse_uptime(table: StringTable) -> float | None:
    for row in table:
        if row:
            seconds = to_float(row[0])
            return seconds if seconds is not None and seconds >= 0.0 else None
    return None


def discover_uptime(section: float) -> DiscoveryResult:
    yield Service()


def check_uptime(item: str, params: NoParams, section: float, store: ValueStore, now: float) -> CheckResult:
    yield Result(State.OK, f"Up since {render.datetime(now - section)}, uptime: {render.timespan(section)}")
    yield Metric("uptime_seconds", section)


uptime = CheckPlugin(
    name="uptime",
    section="uptime",
    title="Uptime",
    discover=discover_uptime,
    check=check_uptime,
    default_params=NoParams(),
)


uptime_section = AgentSection("uptime", parse_uptime)
