"""One service per ZFS pool: is every copy still there, and is the pool filling up?

A pool is judged by the redundancy it has left, as md RAID is: a mirror or raidz1 that has
lost a disk cannot lose another (CRIT), a raidz2 missing one disk still can (WARN), with the
failed devices named. A pool that can no longer serve its data (FAULTED, UNAVAIL, SUSPENDED)
is CRIT. Read, write and checksum errors stay on a device until `zpool clear`, so any
non-zero count warns.
"""

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
    vanished,
)
from watchkeeper.plugins.zfs.redundancy import judge
from watchkeeper.plugins.zfs.zpool import Device, Pool, Scan, Zfs

DAY = 86400.0
POOL_STATE = {"ONLINE": State.OK, "DEGRADED": State.WARN}
"""Every other pool state (FAULTED, UNAVAIL, SUSPENDED, OFFLINE, REMOVED) means data cannot be served: CRIT."""
UNSERVABLE = frozenset(("FAULTED", "UNAVAIL", "SUSPENDED", "OFFLINE", "REMOVED"))
HEALTHY_DEVICE = frozenset(("ONLINE", "AVAIL", "INUSE"))


@dataclass(frozen=True, slots=True)
class PoolParams:
    used_percent: Levels | None = Fixed(warn=80.0, crit=90.0)
    """ZFS slows down and fragments past about 80 % full."""
    time_until_full_seconds: Fixed | None = Fixed(warn=14 * DAY, crit=3 * DAY)
    trend_horizon_seconds: float = 6 * 3600.0
    scrub_max_age_seconds: float | None = 35 * DAY
    """WARN when the last scrub finished longer ago (a monthly scrub fits); None to not judge."""


def discover_pools(section: Zfs) -> DiscoveryResult:
    for name in section.pools:
        yield Service(name)


def check_pool(item: str, params: PoolParams, section: Zfs, store: ValueStore, now: float) -> CheckResult:
    pool = section.pools.get(item)
    if pool is None:
        yield vanished(f"pool {item}", section.errors, "not in `zpool status` or `zpool list` any more")
        return
    yield from _state(pool)
    yield from _errors(pool)
    yield from _scan(pool, params, now)
    yield from _fill(pool, params, store, now)


def _state(pool: Pool) -> CheckResult:
    verdict = judge(pool)
    failed = [device for device in pool.devices if device.leaf and device.state not in HEALTHY_DEVICE]
    details = "\n".join(part for part in (pool.status, pool.action and f"Action: {pool.action}") if part)
    state = POOL_STATE.get(pool.state, State.CRIT) if pool.state else State.UNKNOWN
    text = f"state {pool.state or 'unknown'}"
    if verdict.weakest is not None and verdict.left is not None and pool.state not in UNSERVABLE:
        named = ", ".join(_device(device) for _vdev, device in verdict.data_failures)
        where = verdict.weakest.device.name
        if verdict.left <= 0:
            state = State.CRIT
            text += f": {named}; no redundancy left in {where}, one more failure loses data"
        else:
            state = State.worst(state, State.WARN)
            text += f": {named}; {where} can lose {verdict.left} more"
        yield Metric("zfs_redundancy_left", max(verdict.left, 0))
    elif failed:
        text += ": " + ", ".join(_device(device) for device in failed)
    for vdev, device in verdict.other_failures:
        yield Result(State.WARN, f"{vdev.group} device {_device(device)}",
                     details="A log device holds only the last seconds of synchronous writes, a cache or spare "
                             "device no data; replace it to restore the pool's speed or its spare.")
    yield Result(state, text, details=details)
    yield Metric("zfs_failed_devices", len(failed))


def _device(device: Device) -> str:
    where = f" ({device.group})" if device.group else ""
    note = f" [{device.note}]" if device.note else ""
    return f"{device.name}{where} {device.state}{note}"


def _errors(pool: Pool) -> CheckResult:
    erring = [device for device in pool.devices if device.read or device.write or device.cksum]
    for device in erring:
        counts = ", ".join(f"{render.count(value)} {kind} errors" for kind, value in
                           (("read", device.read), ("write", device.write), ("checksum", device.cksum)) if value)
        yield Result(State.WARN, f"{device.name}: {counts}",
                     details=f"{device.name}: {counts}. Find the cause (cable, disk, controller), then `zpool clear "
                             f"{pool.name}`; the counts stay until cleared.")
    total = {kind: sum(getattr(d, kind) for d in pool.devices if d.leaf) for kind in ("read", "write", "cksum")}
    for kind, value in total.items():
        yield Metric(f"zfs_{kind}_errors", value)
    if pool.data_errors:
        yield Result(State.CRIT, f"{pool.data_errors} data errors: files are damaged",
                     details="Permanent errors: list the damaged files with `zpool status -v " + pool.name
                             + "` and restore them from backup.")
    yield Metric("zfs_data_errors", pool.data_errors)


def _scan(pool: Pool, params: PoolParams, now: float) -> CheckResult:
    scan = pool.scan
    if scan is not None and scan.running:
        yield from _progress(scan)
        return
    if scan is not None and scan.kind == "scrub" and scan.errors:
        yield Result(State.WARN, f"last scrub found {scan.errors} errors", details=scan.text)
    last_scrub = scan.finished_at if scan is not None and scan.kind == "scrub" else None
    if last_scrub is not None:
        age = max(0.0, now - last_scrub)
        yield Metric("zfs_scrub_age_seconds", age)
        text = f"last scrub {render.timespan(age)} ago"
        if params.scrub_max_age_seconds is not None and age >= params.scrub_max_age_seconds:
            yield Result(State.WARN, f"{text} (warn at {render.timespan(params.scrub_max_age_seconds)})",
                         details=scan.text if scan else "")
        else:
            yield Result(State.OK, "", details=f"{text}: {scan.text if scan else ''}")
    elif params.scrub_max_age_seconds is not None and scan is None:
        yield Result(State.OK, "", details="No scrub on record: start one with `zpool scrub " + pool.name + "`.")
    elif scan is not None:
        yield Result(State.OK, "", details=f"Last scan: {scan.text}")


def _progress(scan: Scan) -> CheckResult:
    percent = f" {render.percent(scan.percent_done)}" if scan.percent_done is not None else ""
    eta = ""
    if scan.seconds_to_go is not None:
        left = render.timespan(scan.seconds_to_go) if scan.seconds_to_go >= 60 else "less than a minute"
        eta = f", done in about {left}"
        yield Metric(f"zfs_{scan.kind}_eta_seconds", scan.seconds_to_go)
    if scan.percent_done is not None:
        yield Metric(f"zfs_{scan.kind}_percent_done", scan.percent_done)
    verb = "resilvering" if scan.kind == "resilver" else "scrubbing"
    yield Result(State.OK, f"{verb}{percent}{eta}", details=scan.text)


def _fill(pool: Pool, params: PoolParams, store: ValueStore, now: float) -> CheckResult:
    if pool.used_bytes is not None and pool.available_bytes is not None:
        used, free = pool.used_bytes, pool.available_bytes
    elif pool.size_bytes and pool.allocated_bytes is not None:
        used, free = pool.allocated_bytes, pool.size_bytes - pool.allocated_bytes
    else:
        return
    if used + free <= 0:
        return
    yield from check_levels(100.0 * used / (used + free), levels_upper=params.used_percent,
                            metric_name="zfs_used_percent", label="Used", render_func=render.percent,
                            boundaries=(0.0, 100.0))
    yield Result(State.OK, "", details=f"{render.bytes_(used)} used, {render.bytes_(free)} available")
    yield Metric("zfs_used_bytes", used)
    yield Metric("zfs_available_bytes", free)
    if pool.compressratio is not None:
        yield Metric("zfs_compressratio", pool.compressratio)
    yield from check_time_until_full(store, now, used, free, horizon_s=params.trend_horizon_seconds,
                                     levels=params.time_until_full_seconds, metric_prefix="zfs")


zfs_pools = CheckPlugin(
    name="zfs_pool",
    section="zfs",
    title="ZFS pool %s",
    discover=discover_pools,
    check=check_pool,
    default_params=PoolParams(),
)
