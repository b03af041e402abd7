"""One service per disk with SMART: the verdicts that come before a failure.

Counters that only grow (reallocated and offline-uncorrectable sectors, SAS grown defects,
NVMe media errors) warn when they are above zero and when they grew since discovery, so
a disk that was accepted with a known count still reports new damage; pending sectors are
unreadable data now and are CRIT. The serial seen at discovery tells a replaced disk.
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
    render,
)
from watchkeeper.plugins.smart.smartctl import Disk

GROWING = (
    ("reallocated", "reallocated sectors", "smart_reallocated_sectors"),
    ("offline_uncorrectable", "offline-uncorrectable sectors", "smart_offline_uncorrectable"),
    ("grown_defects", "grown defects", "smart_grown_defects"),
    ("nvme_media_errors", "media errors", "smart_media_errors"),
    ("uncorrected_errors", "uncorrected errors", "smart_uncorrected_errors"),
)


@dataclass(frozen=True, slots=True)
class DiskParams:
    warn_on_any: bool = True
    """WARN on any reallocated/uncorrectable sector, grown defect or media error, not only on new ones."""
    pending_crit: bool = True
    temperature: Fixed | None = None
    """None: 55/65 °C for ATA and SAS disks, 70/80 °C for NVMe."""
    nvme_percentage_used: Fixed | None = Fixed(warn=80.0, crit=100.0)
    serial: str = ""
    reallocated: float = 0.0
    offline_uncorrectable: float = 0.0
    grown_defects: float = 0.0
    nvme_media_errors: float = 0.0
    uncorrected_errors: float = 0.0


def discover_disks(section: dict[str, Disk]) -> DiscoveryResult:
    for item, disk in section.items():
        if disk.passed is None:  # RAID volumes, virtual disks: no SMART of their own
            continue
        facts: dict[str, str | float] = {"serial": disk.serial}
        for name, _label, _metric in GROWING:
            value = getattr(disk, name)
            if value is not None:
                facts[name] = value
        yield Service(item, facts)


def check_disk(item: str, params: DiskParams, section: dict[str, Disk], store: ValueStore, now: float) -> CheckResult:
    disk = section.get(item)
    if disk is None:
        yield Result(State.CRIT, f"disk {item} is gone: smartctl no longer finds it",
                     details="Pulled or failed? Once it is replaced, run service discovery to accept the new disk.")
        return
    yield from _identity(disk, params)
    if disk.standby:
        yield Result(State.OK, "in standby, not woken up to be checked")
        return
    if disk.passed is None:
        why = "; ".join(disk.messages) or "no SMART health verdict"
        yield Result(State.UNKNOWN, f"SMART not readable: {why}")
        return
    if not disk.passed:
        yield Result(State.CRIT, "SMART health: FAILED, the disk predicts its own failure: replace it")
    else:
        yield Result(State.OK, "SMART health: passed")
    if disk.failing_now:
        yield Result(State.CRIT, f"failing now: {', '.join(disk.failing_now)}")
    if disk.failed_in_past:
        yield Result(State.WARN, f"failed in the past: {', '.join(disk.failed_in_past)}")
    if disk.pending is not None:
        yield Metric("smart_pending_sectors", disk.pending)
        if disk.pending > 0:
            state = State.CRIT if params.pending_crit else State.WARN
            yield Result(state, f"{int(disk.pending)} pending sectors (unreadable data)")
    for name, label, metric in GROWING:
        yield from _growing(disk, params, name, label, metric)
    yield from _nvme(disk, params)
    if disk.temperature is not None and disk.temperature > 0:
        levels = params.temperature or (Fixed(70.0, 80.0) if disk.protocol == "NVMe" else Fixed(55.0, 65.0))
        yield from check_levels(disk.temperature, levels_upper=levels, metric_name="smart_temperature_celsius",
                                label="Temperature", render_func=lambda value: f"{value:.0f} °C")


def _identity(disk: Disk, params: DiskParams) -> CheckResult:
    if params.serial and disk.serial and disk.serial != params.serial:
        yield Result(State.WARN, f"another disk: serial {disk.serial}, was {params.serial} at discovery",
                     details="A replaced disk? Run service discovery to accept it and its counters.")
    yield Result(State.OK, "", details=disk.name)


def _growing(disk: Disk, params: DiskParams, name: str, label: str, metric: str) -> CheckResult:
    value = getattr(disk, name)
    if value is None:
        return
    yield Metric(metric, value)
    baseline = float(getattr(params, name))
    if value > baseline:
        yield Result(State.WARN, f"{int(value)} {label} (+{int(value - baseline)} since discovery)")
    elif value > 0 and params.warn_on_any:
        yield Result(State.WARN, f"{int(value)} {label}")
    elif value > 0:
        yield Result(State.OK, f"{int(value)} {label}, as at discovery")


def _nvme(disk: Disk, params: DiskParams) -> CheckResult:
    if disk.nvme_critical_warning:
        yield Result(State.CRIT, f"NVMe critical warning 0x{disk.nvme_critical_warning:02x}",
                     details="Bits: 0 spare below threshold, 1 temperature, 2 reliability degraded, 3 read-only, "
                             "4 volatile backup failed.")
    if disk.nvme_percentage_used is not None:
        yield from check_levels(disk.nvme_percentage_used, levels_upper=params.nvme_percentage_used,
                                metric_name="smart_nvme_percentage_used", label="Wear",
                                render_func=render.percent)
    spare, threshold = disk.nvme_available_spare, disk.nvme_spare_threshold
    if spare is not None:
        yield Metric("smart_nvme_available_spare_percent", spare)
        if threshold is not None and spare <= threshold:
            yield Result(State.CRIT, f"available spare {render.percent(spare)} at or below its threshold "
                                     f"{render.percent(threshold)}")


smart_disks = CheckPlugin(
    name="smart_disk",
    section="smart",
    title="SMART %s",
    discover=discover_disks,
    check=check_disk,
    default_params=DiskParams(),
)
