"""Free space on each filesystem, its growth, and when it will be full."""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Metric,
    Result,
    Service,
    State,
    ValueStore,
    check_levels,
    check_time_until_full,
    render,
)
from watchkeeper.plugins.filesystems.df import IGNORED_FS_TYPES, Filesystem

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class SpaceParams:
    used_percent: Levels | None = Fixed(warn=80.0, crit=90.0)
    free_bytes: Fixed | None = None
    """Lower levels on free space, for large filesystems where 10 % free is still a lot."""
    time_until_full_seconds: Fixed | None = Fixed(warn=7 * DAY, crit=1 * DAY)
    """Lower levels on the forecast: WARN when full within a week at the current growth."""
    trend_horizon_seconds: float = 24 * 3600.0
    """The trend range: time until full is fitted over this much history (`checkapi/forecast.py`)."""


def discover_space(section: dict[str, Filesystem]) -> DiscoveryResult:
    for mountpoint, fs in section.items():
        if fs.fs_type not in IGNORED_FS_TYPES and fs.size_bytes > 0:
            yield Service(mountpoint)


def check_space(
    item: str, params: SpaceParams, section: dict[str, Filesystem], store: ValueStore, now: float
) -> CheckResult:
    fs = section.get(item)
    if fs is None:
        yield Result(State.CRIT, f"{item} is not mounted (no df line for it); "
                     "if it was removed on purpose, run service discovery for this host again")
        return
    usable = fs.used_bytes + fs.avail_bytes  # what df calls the size: reserved blocks excluded
    used_percent = 100.0 * fs.used_bytes / usable if usable else 0.0
    yield from check_levels(
        used_percent, levels_upper=params.used_percent, metric_name="fs_used_percent",
        label="Used", render_func=render.percent, boundaries=(0.0, 100.0),
    )
    yield Result(State.OK, f"{render.bytes_(fs.used_bytes)} of {render.bytes_(usable)}")
    yield from check_levels(
        fs.avail_bytes, levels_lower=params.free_bytes, metric_name="fs_free_bytes",
        label="free", render_func=render.bytes_,
    )
    yield Metric("fs_used_bytes", fs.used_bytes, boundaries=(0, usable))
    yield Metric("fs_size_bytes", usable)

    yield from check_time_until_full(
        store, now, fs.used_bytes, fs.avail_bytes, horizon_s=params.trend_horizon_seconds,
        levels=params.time_until_full_seconds, metric_prefix="fs",
    )

filesystem_space = CheckPlugin(
    name="df",
    section="df",
    title="Filesystem %s",
    discover=discover_space,
    check=check_space,
    default_params=SpaceParams(),
)
