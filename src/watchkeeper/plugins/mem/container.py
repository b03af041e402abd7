"""Memory of a container, from the Checkmk agent's container mode (it detects Docker and LXC):

    <<<docker_container_mem>>>             cgroup v1: memory.stat, then
    inactive_file 33439744                 ...
    usage_in_bytes 2564964352
    limit_in_bytes 9223372036854771712     (no limit: a number near 2^63)
    MemTotal:       24731708 kB            the host's memory

    <<<docker_container_mem_cgroupv2>>>    cgroup v2: memory.stat, memory.current, memory.max
    memory.current 104857600
    memory.max max                         (no limit)

The container's total is its limit, or the host's memory without one; what it uses is its
charge minus the inactive page cache the kernel can drop (as `docker stats` counts it).
"""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, StringTable, to_int
from watchkeeper.plugins.mem.mem import MemInfo


def parse_docker_container_mem(table: StringTable) -> MemInfo | None:
    values: dict[str, int] = {}
    host_kib: int | None = None
    unlimited = False
    for row in table:
        if len(row) >= 2 and row[0] == "MemTotal:":
            host_kib = to_int(row[1])
        elif len(row) == 2:
            if row[0] == "memory.max" and row[1] == "max":
                unlimited = True
            number = to_int(row[1])
            if number is not None and number >= 0:
                values[row[0]] = number
    usage = values.get("usage_in_bytes", values.get("memory.current"))
    if usage is None or host_kib is None:
        return None
    host = host_kib * 1024
    limit = values.get("limit_in_bytes", values.get("memory.max"))
    total = host if unlimited or limit is None or limit <= 0 or limit >= host else limit
    used = max(0, usage - values.get("total_inactive_file", values.get("inactive_file", 0)))
    return MemInfo(total_bytes=total, available_bytes=max(0, total - used), swap_total_bytes=0, swap_free_bytes=0)


docker_container_mem_section = AgentSection("docker_container_mem", parse_docker_container_mem,
                                            parsed_section="mem")
docker_container_mem_v2_section = AgentSection("docker_container_mem_cgroupv2", parse_docker_container_mem,
                                               parsed_section="mem")
