"""One service per thin pool: data and metadata fill with separate levels and forecasts.

A thin pool whose metadata runs full goes read-only or fails, with every thin volume in it:
the metadata levels are lower than the data levels, and each has its own time-until-full.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Metric,
    Result,
    Service,
    State,
    ValueStore,
    check_levels,
    check_time_until_full,
    render,
    vanished,
)
from watchkeeper.plugins.lvm.report import LogicalVolume, Lvm

DAY = 86400.0
BAD_HEALTH = {"out_of_data": "out of data space: writes to unprovisioned blocks fail",
              "metadata_read_only": "metadata is read-only: the pool accepts no changes",
              "failed": "failed"}


@dataclass(frozen=True, slots=True)
class ThinParams:
    data_percent: Fixed | None = Fixed(warn=80.0, crit=90.0)
    metadata_percent: Fixed | None = Fixed(warn=60.0, crit=75.0)
    time_until_full_seconds: Fixed | None = Fixed(warn=7 * DAY, crit=1 * DAY)
    trend_horizon_seconds: float = 24 * 3600.0


def discover_thin_pools(section: Lvm) -> DiscoveryResult:
    for name in section.thin_pools():
        yield Service(name)


def check_thin_pool(item: str, params: ThinParams, section: Lvm, store: ValueStore, now: float) -> CheckResult:
    pool = section.thin_pools().get(item)
    if pool is None:
        yield vanished(f"thin pool {item}", section.errors, "not in `lvs` any more")
        return
    if pool.health:
        yield Result(State.CRIT, f"pool {BAD_HEALTH.get(pool.health, pool.health)}")
    if pool.data_percent is None and pool.metadata_percent is None:
        yield Result(State.OK, "not active: fill not known", details=f"lv_attr {pool.attr}")
        return
    volumes = [lv for lv in section.lvs if lv.vg == pool.vg and lv.pool == pool.name and lv.kind == "V"]
    provisioned = sum(lv.size_bytes for lv in volumes)
    yield from _fill(pool, "data", pool.data_percent, pool.size_bytes, params.data_percent, params, store, now)
    yield from _fill(pool, "metadata", pool.metadata_percent, pool.metadata_bytes, params.metadata_percent,
                     params, store, now)
    if volumes:
        yield Result(State.OK, "", details=f"{len(volumes)} thin volumes, {render.bytes_(provisioned)} provisioned "
                                           f"in {render.bytes_(pool.size_bytes)} "
                                           f"({render.percent(100.0 * provisioned / pool.size_bytes)} overcommit)"
                     if pool.size_bytes else "")
        yield Metric("lvm_thin_provisioned_bytes", provisioned)


def _fill(pool: LogicalVolume, what: str, percent: float | None, size: float | None, levels: Fixed | None,
          params: ThinParams, store: ValueStore, now: float) -> CheckResult:
    if percent is None:
        return
    yield from check_levels(percent, levels_upper=levels, metric_name=f"lvm_thin_{what}_percent",
                            label=what.capitalize(), render_func=render.percent, boundaries=(0.0, 100.0))
    if size:
        used = size * percent / 100.0
        yield from check_time_until_full(store, now, used, size - used, horizon_s=params.trend_horizon_seconds,
                                         levels=params.time_until_full_seconds, metric_prefix=f"lvm_thin_{what}",
                                         key=what)


lvm_thin_pools = CheckPlugin(
    name="lvm_thin_pool",
    section="lvm",
    title="LVM thin pool %s",
    discover=discover_thin_pools,
    check=check_thin_pool,
    default_params=ThinParams(),
)
