"""One service per volume group: missing PVs (named, with where lvm last saw them), partial or
stale LVs, snapshot fill, and free space with time-until-full of the allocation."""

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
from watchkeeper.plugins.lvm.report import Lvm

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class GroupParams:
    free_percent: Fixed | None = None
    """Lower levels on free space; none by default (a VG allocated to the last extent is normal)."""
    time_until_full_seconds: Fixed | None = Fixed(warn=7 * DAY, crit=1 * DAY)
    trend_horizon_seconds: float = 24 * 3600.0
    snapshot_percent: Fixed | None = Fixed(warn=80.0, crit=90.0)
    """A classic snapshot that reaches 100 % becomes invalid and is lost."""


def discover_groups(section: Lvm) -> DiscoveryResult:
    for name in section.vgs:
        yield Service(name)


def check_group(item: str, params: GroupParams, section: Lvm, store: ValueStore, now: float) -> CheckResult:
    vg = section.vgs.get(item)
    if vg is None:
        yield vanished(f"volume group {item}", section.errors, "not in `vgs` any more")
        return
    yield from _missing(item, section)
    for lv in section.lvs:
        if lv.vg == item and lv.volume_health in ("p", "r"):
            what = "partial: part of it is on a missing PV" if lv.volume_health == "p" else "needs a refresh"
            yield Result(State.CRIT if lv.volume_health == "p" else State.WARN, f"LV {lv.name} {what}")
        if lv.vg == item and lv.kind in ("s", "S"):
            yield from _snapshot(lv.name, lv.attr, lv.data_percent, params)
    free_percent = 100.0 * vg.free_bytes / vg.size_bytes if vg.size_bytes else 0.0
    yield from check_levels(free_percent, levels_lower=params.free_percent, metric_name="lvm_vg_free_percent",
                            label="Free", render_func=render.percent, boundaries=(0.0, 100.0))
    yield Result(State.OK, f"{render.bytes_(vg.free_bytes)} of {render.bytes_(vg.size_bytes)}",
                 details=f"{vg.pv_count} PVs, {vg.lv_count} LVs, attributes {vg.attr}")
    yield Metric("lvm_vg_size_bytes", vg.size_bytes)
    yield Metric("lvm_vg_free_bytes", vg.free_bytes)
    yield from check_time_until_full(store, now, vg.size_bytes - vg.free_bytes, vg.free_bytes,
                                     horizon_s=params.trend_horizon_seconds, levels=params.time_until_full_seconds,
                                     metric_prefix="lvm_vg")


def _missing(item: str, section: Lvm) -> CheckResult:
    vg = section.vgs[item]
    missing = [pv for pv in section.pvs if pv.vg == item and pv.missing]
    count = max(vg.missing_pv_count, len(missing), 1 if vg.partial else 0)
    yield Metric("lvm_vg_missing_pvs", count)
    if not count:
        return
    names = []
    for pv in missing:
        seen = next((w.rsplit("last written to ", 1)[1].rstrip(").") for w in section.warnings
                     if pv.uuid and pv.uuid in w and "last written to" in w), "")
        names.append(f"PV {pv.uuid or pv.name}" + (f" (last seen as {seen})" if seen else ""))
    listed = ": " + ", ".join(names) if names else ""
    yield Result(State.CRIT, f"{count} of {vg.pv_count} PVs missing{listed}",
                 details="The volume group is partial: logical volumes with extents on the missing PV cannot be "
                         "read in full. Bring the disk back, or `vgreduce --removemissing` only once its data is "
                         "given up.\n" + "\n".join(section.warnings))


def _snapshot(name: str, attr: str, percent: float | None, params: GroupParams) -> CheckResult:
    if len(attr) > 4 and attr[4] == "I":
        yield Result(State.CRIT, f"snapshot {name} is invalid (it overflowed): its data is lost")
        return
    if percent is not None:
        yield from check_levels(percent, levels_upper=params.snapshot_percent, metric_name=None,
                                label=f"snapshot {name}", render_func=render.percent)


lvm_groups = CheckPlugin(
    name="lvm_vg",
    section="lvm",
    title="LVM VG %s",
    discover=discover_groups,
    check=check_group,
    default_params=GroupParams(),
)
