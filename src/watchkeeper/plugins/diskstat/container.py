"""Disk IO of a container, from the Checkmk agent's container mode:

    <<<docker_container_diskstat>>>        cgroup v1
    [time]
    1796025008
    [io_service_bytes]
    254:0 Read 4096
    254:0 Write 8192
    Total 12288
    [io_serviced]
    254:0 Read 1
    254:0 Write 2
    [names]
    vda 254:0

    <<<docker_container_diskstat_cgroupv2>>>   cgroup v2: `[io.stat]` lines
    254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0

Bytes and operations per device; the cgroup keeps no service times, so the check shows
throughput and IOPS without latency or utilisation.
"""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, StringTable, to_float, to_int
from watchkeeper.plugins.diskstat.diskstat import DiskCounters, Diskstats

V2_FIELDS = {"rbytes": "bytes_read", "wbytes": "bytes_write", "rios": "ios_read", "wios": "ios_write"}


def parse_docker_container_diskstat(table: StringTable) -> Diskstats | None:
    part = ""
    timestamp: float | None = None
    names: dict[str, str] = {}
    counts: dict[str, dict[str, int]] = {}
    for row in table:
        if len(row) == 1 and row[0].startswith("[") and row[0].endswith("]"):
            part = row[0][1:-1]
            continue
        if part == "time" and row:
            timestamp = to_float(row[0])
        elif part == "names" and len(row) == 2:
            names[row[1]] = row[0]
        elif part in ("io_service_bytes", "io_serviced") and len(row) == 3 and row[1] in ("Read", "Write"):
            number = to_int(row[2])
            if number is not None:
                key = ("bytes_" if part == "io_service_bytes" else "ios_") + row[1].lower()
                counts.setdefault(row[0], {})[key] = number
        elif part == "io.stat" and row:
            device = counts.setdefault(row[0], {})
            for pair in row[1:]:
                field, _, value = pair.partition("=")
                number = to_int(value)
                if field in V2_FIELDS and number is not None:
                    device[V2_FIELDS[field]] = number
    disks = {names.get(device, device): DiskCounters(c.get("ios_read", 0), c.get("bytes_read", 0), 0,
                                                       c.get("ios_write", 0), c.get("bytes_write", 0), 0, 0,
                                                       has_times=False)
             for device, c in counts.items() if device != "Total"}
    return Diskstats(timestamp, disks) if disks else None


docker_container_diskstat_section = AgentSection("docker_container_diskstat", parse_docker_container_diskstat,
                                                 parsed_section="diskstat")
docker_container_diskstat_v2_section = AgentSection("docker_container_diskstat_cgroupv2",
                                                    parse_docker_container_diskstat, parsed_section="diskstat")
