"""Disk throughput, IOPS, latency and utilisation from `<<<diskstat>>>`: the agent's clock,
then /proc/diskstats. Checkmk agents append a `[dmsetup_info]` block, which is skipped.

    1795238627
     254       0 vda 35288 8822 2523858 9733 12011 13376 1933592 6715 0 4032 16890 ...

After major, minor and name: reads, reads merged, sectors read, ms reading, writes,
writes merged, sectors written, ms writing, I/Os in progress, ms doing I/O, ...
Sectors are always 512 bytes here, whatever the device's own sector size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Levels,
    Pending,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    check_levels,
    rate,
    render,
    to_float,
    to_int,
)

WHOLE_DISK = re.compile(r"(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+|mmcblk\d+|md\d+|dm-\d+"
                        r"|ada\d+|da\d+|nvd\d+|nda\d+|mfid\d+|mfisyspd\d+|vtbd\d+|xbd\d+|mmcsd\d+)")
"""Whole disks by their names on Linux and, after `dm-`, on FreeBSD (ATA, SCSI/USB, NVMe, MegaRAID
volumes and JBOD disks, virtio, Xen, SD cards)."""


@dataclass(frozen=True, slots=True)
class DiskCounters:
    reads: int
    read_bytes: int
    read_ms: int
    writes: int
    write_bytes: int
    write_ms: int
    busy_ms: int
    has_times: bool = True
    """False where only bytes and operations are known (a container's cgroup counters)."""


@dataclass(frozen=True, slots=True)
class Diskstats:
    timestamp: float | None
    disks: dict[str, DiskCounters]


@dataclass(frozen=True, slots=True)
class DiskParams:
    latency_seconds: Levels | None = None
    utilization_percent: Levels | None = None


def parse_diskstat(table: StringTable) -> Diskstats | None:
    timestamp: float | None = None
    disks: dict[str, DiskCounters] = {}
    for row in table:
        if row[0].startswith("["):
            break  # [dmsetup_info] and later blocks
        if len(row) == 1 and row[0].isdecimal():
            timestamp = to_float(row[0])
            continue
        numbers = [to_int(field) for field in row[3:14]]
        n = [number for number in numbers if number is not None and number >= 0]
        if len(row) < 14 or len(n) != 11:
            continue
        disks[row[2]] = DiskCounters(n[0], n[2] * 512, n[3], n[4], n[6] * 512, n[7], n[9])
    return Diskstats(timestamp, disks) if disks else None


def discover_diskstat(section: Diskstats) -> DiscoveryResult:
    for name in section.disks:
        if WHOLE_DISK.fullmatch(name):
            yield Service(name)


def check_diskstat(item: str, params: DiskParams, section: Diskstats, store: ValueStore, now: float) -> CheckResult:
    disk = section.disks.get(item)
    if disk is None:
        yield Result(State.UNKNOWN, f"disk {item} is missing from /proc/diskstats; if it was removed, "
                     "run service discovery for this host again")
        return
    when = section.timestamp or now
    rates = [rate(store, name, when, value) for name, value in (
        ("reads", disk.reads), ("read_bytes", disk.read_bytes), ("read_ms", disk.read_ms),
        ("writes", disk.writes), ("write_bytes", disk.write_bytes), ("write_ms", disk.write_ms),
        ("busy_ms", disk.busy_ms))]
    if any(r is None for r in rates):
        yield Pending("counters initialised or reset; rates follow on the next run")
        return
    reads, read_bytes, read_ms, writes, write_bytes, write_ms, busy_ms = (r or 0.0 for r in rates)
    yield from check_levels(read_bytes, metric_name="disk_read_bytes_per_second", label="Read",
                            render_func=render.bytes_per_second)
    yield from check_levels(write_bytes, metric_name="disk_write_bytes_per_second", label="write",
                            render_func=render.bytes_per_second)
    yield from check_levels(reads, metric_name="disk_read_ios_per_second", label="read IOPS",
                            render_func=render.per_second, notice_only=True)
    yield from check_levels(writes, metric_name="disk_write_ios_per_second", label="write IOPS",
                            render_func=render.per_second, notice_only=True)
    if not disk.has_times:
        return
    ios = reads + writes
    latency = (read_ms + write_ms) / 1000.0 / ios if ios else 0.0
    yield from check_levels(latency, levels_upper=params.latency_seconds,
                            metric_name="disk_latency_seconds", label="latency",
                            render_func=render.milliseconds)
    yield from check_levels(min(busy_ms / 10.0, 100.0), levels_upper=params.utilization_percent,
                            metric_name="disk_utilization_percent", label="utilization",
                            render_func=render.percent, boundaries=(0.0, 100.0))


diskstat = CheckPlugin(
    name="diskstat",
    section="diskstat",
    title="Disk IO %s",
    discover=discover_diskstat,
    check=check_diskstat,
    default_params=DiskParams(),
)


diskstat_section = AgentSection("diskstat", parse_diskstat)
