"""CPU use of a container, from the Checkmk agent's container mode, as a share of the host:

    <<<docker_container_cpu>>>             cgroup v1
    cpu  57812 32 14707 257207 604 0 1305 528 0 0      the host's /proc/stat line
    num_cpus 2
    user 58847                             cpuacct.stat, in the same clock ticks
    system 16290

    <<<docker_container_cpu_cgroupv2>>>    cgroup v2
    uptime 1234.56 2345.67                 the host's /proc/uptime
    num_cpus 2
    usage_usec 9876543                     cpu.stat
    user_usec 7654321
    system_usec 2222222

Both become the tick counters the utilisation check reads: the container's user and system
time, and as idle the rest of the host's capacity in the same interval.
"""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, SectionUnparsed, StringTable, to_float, to_int
from watchkeeper.plugins.cpu.utilization import CpuTicks


def parse_docker_container_cpu(table: StringTable) -> CpuTicks | None:
    values: dict[str, int] = {}
    host_total: int | None = None
    uptime: float | None = None
    for row in table:
        if row and row[0] == "cpu" and len(row) >= 5:
            ticks = [to_int(value) for value in row[1:]]
            if all(tick is not None for tick in ticks):
                host_total = sum(tick or 0 for tick in ticks[:8])
        elif len(row) >= 2 and row[0] == "uptime":
            uptime = to_float(row[1])
        elif len(row) == 2 and (number := to_int(row[1])) is not None and number >= 0:
            values[row[0]] = number
    cpus = values.get("num_cpus", 1) or 1
    if host_total is not None and "user" in values and "system" in values:
        user, system = values["user"], values["system"]
        return CpuTicks(user, system, max(0, host_total - user - system), 0, 0, cpus)
    if uptime is not None and "usage_usec" in values:
        capacity_usec = uptime * 1_000_000 * cpus
        if not 0 <= capacity_usec < 2**63:  # also inf: a finite uptime times CPUs can overflow
            raise SectionUnparsed(f"an uptime of {uptime:g} s on {cpus} CPUs is beyond any real host")
        capacity = int(capacity_usec)
        user = values.get("user_usec", values["usage_usec"])
        system = values.get("system_usec", 0)
        return CpuTicks(user, system, max(0, capacity - user - system), 0, 0, cpus)
    return None


docker_container_cpu_section = AgentSection("docker_container_cpu", parse_docker_container_cpu,
                                            parsed_section="kernel")
docker_container_cpu_v2_section = AgentSection("docker_container_cpu_cgroupv2", parse_docker_container_cpu,
                                               parsed_section="kernel")
