"""`ZFS snapshots DATASET`: the newest snapshot of each dataset that has snapshots, by age (WARN
26 h, CRIT 50 h: a daily snapshot missed once, then twice; `age_seconds`, by rule per dataset),
how many there are and the space they hold. A dataset whose snapshots all went is CRIT until
its service is removed: a snapshot job that deletes instead of rotating must not go unseen."""

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
    render,
    vanished,
)
from watchkeeper.plugins.zfs.zpool import Zfs

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class SnapshotParams:
    age_seconds: Fixed | None = Fixed(warn=26 * HOUR, crit=50 * HOUR)


def discover_snapshots(section: Zfs) -> DiscoveryResult:
    for dataset in sorted(section.snapshots or {}):
        yield Service(dataset)


def check_snapshots(item: str, params: SnapshotParams, section: Zfs, store: ValueStore, now: float) -> CheckResult:
    if section.snapshots is None:
        yield Result(State.UNKNOWN, "the snapshots were not listed" + (f": {section.errors[0]}" if section.errors
                                                                       else ""))
        return
    found = section.snapshots.get(item)
    if found is None:
        yield vanished(f"snapshots of {item}", section.errors, "the dataset has no snapshot any more")
        return
    yield Result(State.OK, f"{found.count} snapshots, {render.bytes_(found.used_bytes)} held")
    yield Metric("zfs_snapshots", found.count)
    yield Metric("zfs_snapshots_used_bytes", found.used_bytes)
    if found.unread:
        yield Result(State.UNKNOWN, f"the creation time of {found.unread} could not be read")
    if found.newest_created is not None:
        yield from check_levels(max(0.0, now - found.newest_created), levels_upper=params.age_seconds,
                                metric_name="zfs_snapshot_age_seconds", label=f"newest @{found.newest}",
                                render_func=render.timespan)


zfs_snapshots = CheckPlugin(name="zfs_snapshots", section="zfs", title="ZFS snapshots %s",
                            discover=discover_snapshots, check=check_snapshots, default_params=SnapshotParams())
