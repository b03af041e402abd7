"""One `Time sync` service, whichever daemon keeps the clock: synchronised or not, the offset
against levels, the stratum, and for systemd-timesyncd the age of the last synchronisation.

Clocks matter for Kerberos, certificates, logs and backups; an unsynchronised clock is
CRIT because it drifts unnoticed until one of those breaks.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Result,
    Service,
    State,
    ValueStore,
    check_levels,
    render,
)
from watchkeeper.plugins.timesync.sources import TimeSync


@dataclass(frozen=True, slots=True)
class TimeSyncParams:
    offset_seconds: Levels | None = Fixed(warn=0.2, crit=0.5)
    max_stratum: int = 10
    """A stratum at or above this is WARN (16 is unsynchronised)."""
    sync_age_seconds: Fixed | None = Fixed(warn=2 * 3600.0, crit=6 * 3600.0)
    """systemd-timesyncd: time since the last successful synchronisation."""


def discover_timesync(section: TimeSync) -> DiscoveryResult:
    yield Service()


def check_timesync(item: str, params: TimeSyncParams, section: TimeSync, store: ValueStore,
                   now: float) -> CheckResult:
    details = "\n".join(section.notes[:20])
    if section.synchronised is None:
        yield Result(State.UNKNOWN, f"{section.daemon} gave no synchronisation state: "
                     f"{section.notes[0] if section.notes else 'no output'}", details=details)
        return
    if not section.synchronised:
        yield Result(State.CRIT, f"{section.daemon}: not synchronised" +
                     (f" (last tried {section.server})" if section.server else ""), details=details)
    else:
        yield Result(State.OK, f"{section.daemon} synchronised to {section.server or 'a server'}", details=details)
    if section.offset_seconds is not None:
        yield from check_levels(abs(section.offset_seconds), levels_upper=params.offset_seconds,
                                metric_name="time_offset_seconds", label="offset", render_func=render.milliseconds)
    if section.stratum is not None and section.synchronised:
        state = State.WARN if section.stratum >= params.max_stratum else State.OK
        yield Result(state, f"stratum {section.stratum}" +
                     (f" (warn at {params.max_stratum})" if state is State.WARN else ""))
    if section.last_sync is not None and params.sync_age_seconds is not None:
        yield from check_levels(max(0.0, now - section.last_sync), levels_upper=params.sync_age_seconds,
                                metric_name="time_sync_age_seconds", label="last synchronised",
                                render_func=render.timespan)


timesync = CheckPlugin(
    name="timesync",
    section="timesync",
    title="Time sync",
    discover=discover_timesync,
    check=check_timesync,
    default_params=TimeSyncParams(),
)
