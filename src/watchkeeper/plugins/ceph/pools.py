"""Ceph pools: fill (as `ceph df` counts it against the pool's max_avail), growth, time until full."""

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
from watchkeeper.plugins.ceph.status import Pool

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class PoolParams:
    used_percent: Levels | None = Fixed(warn=75.0, crit=85.0)
    """Ceph stops writes at its full ratio (95 % of an OSD by default); a pool fills as its fullest OSD."""
    time_until_full_seconds: Fixed | None = Fixed(warn=14 * DAY, crit=3 * DAY)
    trend_horizon_seconds: float = 24 * 3600.0
    quota_percent: Levels | None = Fixed(warn=80.0, crit=95.0)
    """Of the pool's quota (objects or bytes, whichever is nearer): at 100 % Ceph blocks writes."""


def discover_pools(section: dict[str, Pool]) -> DiscoveryResult:
    for name in section:
        yield Service(name)


def check_pool(
    item: str, params: PoolParams, section: dict[str, Pool], store: ValueStore, now: float
) -> CheckResult:
    pool = section.get(item)
    if pool is None:
        yield Result(State.CRIT, f"pool {item} is not in `ceph df` any more; if it was deleted on purpose, "
                     "run service discovery with --remove-vanished")
        return
    yield from check_levels(100.0 * pool.used_ratio, levels_upper=params.used_percent,
                            metric_name="ceph_pool_used_percent", label="Used", render_func=render.percent,
                            boundaries=(0.0, 100.0))
    yield Result(State.OK, f"{render.bytes_(pool.stored_bytes)} stored, {render.bytes_(pool.max_avail_bytes)} "
                 "available to it")
    yield Metric("ceph_pool_stored_bytes", pool.stored_bytes)
    yield Metric("ceph_pool_max_avail_bytes", pool.max_avail_bytes)
    yield Metric("ceph_pool_objects", pool.objects)
    yield from _quota(pool, params)
    yield from check_time_until_full(store, now, pool.stored_bytes, pool.max_avail_bytes,
                                     horizon_s=params.trend_horizon_seconds,
                                     levels=params.time_until_full_seconds, metric_prefix="ceph_pool")

def _quota(pool: Pool, params: PoolParams) -> CheckResult:
    """The pool's own limit, apart from the raw capacity above: POOL_NEAR_FULL and POOL_FULL come
    from here, POOL_NEARFULL from the OSDs filling up."""
    shares = []
    if pool.quota_objects > 0:
        shares.append((100.0 * pool.objects / pool.quota_objects,
                       f"{render.count(pool.objects)} of {render.count(pool.quota_objects)} objects"))
    if pool.quota_bytes > 0:
        shares.append((100.0 * pool.stored_bytes / pool.quota_bytes,
                       f"{render.bytes_(pool.stored_bytes)} of {render.bytes_(pool.quota_bytes)}"))
    if not shares:
        return
    percent, text = max(shares)
    if percent >= 100.0:
        yield Result(State.CRIT, f"quota reached ({text}): Ceph blocks writes to this pool (POOL_FULL)")
        yield Metric("ceph_pool_quota_used_percent", percent, boundaries=(0.0, 100.0))
        return
    yield from check_levels(percent, levels_upper=params.quota_percent, metric_name="ceph_pool_quota_used_percent",
                            label=f"Quota ({text})", render_func=render.percent, boundaries=(0.0, 100.0))


ceph_pools = CheckPlugin(
    name="ceph_pool",
    section="ceph_df",
    title="Ceph pool %s",
    discover=discover_pools,
    check=check_pool,
    default_params=PoolParams(),
)
