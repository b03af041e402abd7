"""CPU utilisation from the `cpu` line of /proc/stat in `<<<kernel>>>` (jiffies since boot).

    1795238627
    cpu  2601 0 1914 36915 172 0 30 7 0 0
    cpu0 1020 0 785 18996 7 0 8 2 0 0

Fields: user nice system idle iowait irq softirq steal guest guest_nice. Guest time is
already counted in user, so it is left out of the total. Checkmk agents put /proc/vmstat
lines in the same section; they are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Levels,
    Pending,
    Service,
    StringTable,
    ValueStore,
    check_levels,
    rate,
    render,
    to_int,
)


@dataclass(frozen=True, slots=True)
class CpuTicks:
    user: int
    system: int
    idle: int
    iowait: int
    steal: int
    cpus: int

    @property
    def total(self) -> int:
        return self.user + self.system + self.idle + self.iowait + self.steal


@dataclass(frozen=True, slots=True)
class UtilizationParams:
    util_percent: Levels | None = None
    iowait_percent: Levels | None = None
    steal_percent: Levels | None = None


def parse_kernel_cpu(table: StringTable) -> CpuTicks | None:
    ticks: list[int] | None = None
    cpus = 0
    for row in table:
        if not row or not row[0].startswith("cpu"):
            continue
        if row[0] == "cpu" and len(row) >= 5:
            numbers = [to_int(f) for f in row[1:]]
            if all(n is not None and n >= 0 for n in numbers):
                ticks = [n for n in numbers if n is not None] + [0] * 8
        elif row[0][3:].isdecimal():
            cpus += 1
    if ticks is None:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = ticks[:8]
    return CpuTicks(user + nice, system + irq + softirq, idle, iowait, steal, max(cpus, 1))


def discover_cpu_utilization(section: CpuTicks) -> DiscoveryResult:
    yield Service()


def check_cpu_utilization(
    item: str, params: UtilizationParams, section: CpuTicks, store: ValueStore, now: float
) -> CheckResult:
    # The tick counters themselves are the clock: no dependence on when the agent ran.
    total = rate(store, "total", section.total, section.total)
    user = rate(store, "user", section.total, section.user)
    system = rate(store, "system", section.total, section.system)
    iowait = rate(store, "iowait", section.total, section.iowait)
    steal = rate(store, "steal", section.total, section.steal)
    if total is None or user is None or system is None or iowait is None or steal is None:
        yield Pending("counters initialised or reset; utilisation follows on the next run")
        return
    yield from check_levels(
        100.0 * (user + system + iowait + steal),
        levels_upper=params.util_percent,
        metric_name="cpu_util_percent",
        label=f"Total CPU ({section.cpus} cores)",
        render_func=render.percent,
        boundaries=(0.0, 100.0),
    )
    yield from check_levels(100.0 * user, metric_name="cpu_user_percent", label="user",
                            render_func=render.percent)
    yield from check_levels(100.0 * system, metric_name="cpu_system_percent", label="system",
                            render_func=render.percent)
    yield from check_levels(100.0 * iowait, levels_upper=params.iowait_percent,
                            metric_name="cpu_iowait_percent", label="iowait", render_func=render.percent)
    yield from check_levels(100.0 * steal, levels_upper=params.steal_percent,
                            metric_name="cpu_steal_percent", label="steal", render_func=render.percent)


cpu_utilization = CheckPlugin(
    name="cpu_utilization",
    section="kernel",
    title="CPU utilization",
    discover=discover_cpu_utilization,
    check=check_cpu_utilization,
    default_params=UtilizationParams(),
)


kernel_section = AgentSection("kernel", parse_kernel_cpu)
