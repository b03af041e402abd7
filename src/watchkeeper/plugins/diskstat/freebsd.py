"""Disk IO on FreeBSD from `<<<freebsd_iostat>>>`: the host's clock, then `iostat -d -x -I`, whose
`-I` prints totals since boot instead of rates, so they are counters like /proc/diskstats.

    1789900897
                            extended device statistics
    device           r/i         w/i         kr/i         kw/i qlen   tsvc_t/i      sb/i
    ada0     152107298.0 125540885.0 5735055021.5 2229765260.0    0  1553713.6  533244.6

Reads and writes, KiB read and written, the total service time and the time busy (seconds).
FreeBSD does not split service time by direction: all of it counts as read time, and latency is
their sum over all operations, as on Linux. pass(4) devices are passthrough handles, not disks.
"""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, StringTable, to_float
from watchkeeper.plugins.diskstat.diskstat import DiskCounters, Diskstats

COLUMNS = ("r/i", "w/i", "kr/i", "kw/i", "tsvc_t/i", "sb/i")


def parse_freebsd_iostat(table: StringTable) -> Diskstats | None:
    timestamp: float | None = None
    header: list[str] = []
    disks: dict[str, DiskCounters] = {}
    for row in table:
        fields = (row[0] if row else "").split()
        if len(fields) == 1 and fields[0].isdecimal():
            timestamp = to_float(fields[0])
        elif fields[:1] == ["device"]:
            header = fields
        elif header and len(fields) == len(header) and all(column in header for column in COLUMNS):
            values = dict(zip(header, fields, strict=True))
            numbers = [to_float(values[column]) for column in COLUMNS]
            if fields[0].startswith("pass") or any(n is None or n < 0 for n in numbers):
                continue
            reads, writes, kib_read, kib_written, service_s, busy_s = (n or 0.0 for n in numbers)
            disks[fields[0]] = DiskCounters(int(reads), int(kib_read * 1024), int(service_s * 1000), int(writes),
                                            int(kib_written * 1024), 0, int(busy_s * 1000))
    return Diskstats(timestamp, disks) if disks else None


freebsd_iostat_section = AgentSection("freebsd_iostat", parse_freebsd_iostat, parsed_section="diskstat")
