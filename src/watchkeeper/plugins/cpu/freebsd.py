"""CPU load and utilisation on FreeBSD, from sysctl(8) in `<<<freebsd_load>>>` and `<<<freebsd_cpu>>>`.

    vm.loadavg: { 0.32 0.16 0.06 }
    hw.ncpu: 2
    kern.cp_time: 321 0 188 10 61683

kern.cp_time counts the ticks spent in user, nice, system, interrupt and idle; FreeBSD has no
iowait or steal counter, so those stay 0. They feed the same `CPU load` and `CPU utilization`
services as on Linux.
"""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, SectionUnparsed, StringTable, sysctl_values, to_float, to_int
from watchkeeper.plugins.cpu.load import Load
from watchkeeper.plugins.cpu.utilization import CpuTicks


def _cpus(values: dict[str, str]) -> int:
    cpus = to_int(values.get("hw.ncpu"))
    return cpus if cpus is not None and 0 < cpus < 1_000_000 else 1


def parse_freebsd_load(table: StringTable) -> Load | None:
    values = sysctl_values(table)
    text = values.get("vm.loadavg")
    if text is None:
        return None
    numbers = [to_float(field) for field in text.strip("{} ").split()]
    if len(numbers) != 3 or any(n is None or n < 0 for n in numbers):
        raise SectionUnparsed(f"vm.loadavg is not three load averages: {text[:80]!r}")
    load1, load5, load15 = (n or 0.0 for n in numbers)
    return Load(load1, load5, load15, _cpus(values))


def parse_freebsd_cpu(table: StringTable) -> CpuTicks | None:
    values = sysctl_values(table)
    text = values.get("kern.cp_time")
    if text is None:
        return None
    ticks = [to_int(field) for field in text.split()]
    if len(ticks) != 5 or any(t is None or t < 0 for t in ticks):
        raise SectionUnparsed(f"kern.cp_time is not five tick counters (user nice system interrupt idle): "
                              f"{text[:80]!r}")
    user, nice, system, interrupt, idle = (t or 0 for t in ticks)
    return CpuTicks(user + nice, system + interrupt, idle, 0, 0, _cpus(values))


freebsd_load_section = AgentSection("freebsd_load", parse_freebsd_load, parsed_section="cpu")
freebsd_cpu_section = AgentSection("freebsd_cpu", parse_freebsd_cpu, parsed_section="kernel")
