"""Time since boot from `<<<uptime>>>`: seconds up and idle (or only seconds up).

    426.10 707.68
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
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


@dataclass(frozen=True, slots=True)
class UptimeParams:
    reboot_warn_seconds: float = 3600.0
    """How long a restart seen between two checks stays a WARN (0: never)."""


REBOOT_SLACK_S = 120.0
"""Boot times computed from two samples differ by clock steps and rounding; a restart moves it further."""


def check_uptime(item: str, params: UptimeParams, section: float, store: ValueStore, now: float) -> CheckResult:
    boot = now - section
    last_boot, rebooted = store.get("boot"), store.get("rebooted_at")
    store["boot"] = boot
    if isinstance(last_boot, (int, float)) and boot > last_boot + REBOOT_SLACK_S:
        store["rebooted_at"] = rebooted = boot
    if isinstance(rebooted, (int, float)) and now - rebooted < params.reboot_warn_seconds:
        yield Result(State.WARN, f"restarted at {render.datetime(rebooted)}, {render.timespan(now - rebooted)} ago")
    yield Result(State.OK, f"Up since {render.datetime(boot)}, uptime: {render.timespan(section)}")
    yield Metric("uptime_seconds", section)


uptime = CheckPlugin(
    name="uptime",
    section="uptime",
    title="Uptime",
    discover=discover_uptime,
    check=check_uptime,
    default_params=UptimeParams(),
)


uptime_section = AgentSection("uptime", parse_uptime)
