"""The cluster's space as the master counts it, its growth, and when it will be full."""

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
from watchkeeper.plugins.moosefs.mfscli import MooseFS

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class ClusterSpaceParams:
    used_percent: Levels | None = Fixed(warn=80.0, crit=90.0)
    """Below ~10 % free the master has little room left to re-replicate after a failure."""
    time_until_full_seconds: Fixed | None = Fixed(warn=14 * DAY, crit=3 * DAY)
    trend_horizon_seconds: float = 24 * 3600.0


def discover_space(section: MooseFS) -> DiscoveryResult:
    yield Service()


def check_space(item: str, params: ClusterSpaceParams, section: MooseFS, store: ValueStore, now: float) -> CheckResult:
    total, avail = section.info_int("total space"), section.info_int("avail space")
    if not section.reachable or total is None or avail is None:
        yield Result(State.UNKNOWN,
                     f"no space figures from the {section.product} master: {'; '.join(section.errors) or '-'}")
        return
    used = max(total - avail, 0)
    percent = 100.0 * used / total if total else 0.0
    yield from check_levels(percent, levels_upper=params.used_percent, metric_name="mfs_used_percent",
                            label="Used", render_func=render.percent, boundaries=(0.0, 100.0))
    yield Result(State.OK, f"{render.bytes_(used)} of {render.bytes_(total)}")
    yield Metric("mfs_used_bytes", used, boundaries=(0, total))
    yield Metric("mfs_total_bytes", total)
    trash = section.info_int("trash space")
    if trash:
        files = section.info.get("trash files", "?")
        yield Result(State.OK, "", details=f"trash: {render.bytes_(trash)} ({files} files)")
        yield Metric("mfs_trash_bytes", trash)
    yield from check_time_until_full(store, now, used, avail, horizon_s=params.trend_horizon_seconds,
                                     levels=params.time_until_full_seconds, metric_prefix="mfs")

moosefs_space = CheckPlugin(
    name="moosefs_space",
    section="moosefs",
    title="MooseFS space",
    discover=discover_space,
    check=check_space,
    default_params=ClusterSpaceParams(),
)
