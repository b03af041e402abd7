"""Memory and swap from `<<<mem>>>`, the agent's copy of /proc/meminfo.

    MemTotal:       16314208 kB
    MemAvailable:    9221412 kB
    SwapTotal:             0 kB
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Metric,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    check_levels,
    render,
    to_int,
)


@dataclass(frozen=True, slots=True)
class MemInfo:
    total_bytes: int
    available_bytes: int
    swap_total_bytes: int
    swap_free_bytes: int


@dataclass(frozen=True, slots=True)
class MemParams:
    used_percent: Levels | None = Fixed(warn=80.0, crit=90.0)
    swap_used_percent: Levels | None = None


_READ = frozenset({"MemTotal:", "MemAvailable:", "SwapTotal:", "SwapFree:"})


def parse_mem(table: StringTable) -> MemInfo | None:
    kib = {row[0][:-1]: number for row in table  # 4 of /proc/meminfo's 50-odd lines are read
           if row[0] in _READ and len(row) == 3 and row[2] == "kB" and (number := to_int(row[1])) is not None
           and number >= 0}
    total, available = kib.get("MemTotal"), kib.get("MemAvailable")
    if not total or available is None:
        return None  # kernels before 3.14 lack MemAvailable: no section, so no service
    return MemInfo(
        total_bytes=total * 1024,
        available_bytes=min(available, total) * 1024,
        swap_total_bytes=kib.get("SwapTotal", 0) * 1024,
        swap_free_bytes=kib.get("SwapFree", 0) * 1024,
    )


def discover_mem(section: MemInfo) -> DiscoveryResult:
    yield Service()


def check_mem(item: str, params: MemParams, section: MemInfo, store: ValueStore, now: float) -> CheckResult:
    if section.total_bytes <= 0:
        yield Result(State.UNKNOWN, "the agent reports no memory at all (total 0): its output is damaged")
        return
    used_bytes = section.total_bytes - section.available_bytes
    yield from check_levels(100.0 * used_bytes / section.total_bytes,
                            levels_upper=params.used_percent, metric_name="mem_used_percent",
                            label="RAM used", render_func=render.percent)
    yield Metric("mem_used_bytes", used_bytes, boundaries=(0, section.total_bytes))
    if section.swap_total_bytes:
        swap_used = section.swap_total_bytes - section.swap_free_bytes
        yield from check_levels(100.0 * swap_used / section.swap_total_bytes,
                                levels_upper=params.swap_used_percent, metric_name="swap_used_percent",
                                label="swap used", render_func=render.percent)
        yield Metric("swap_used_bytes", swap_used, boundaries=(0, section.swap_total_bytes))


mem = CheckPlugin(
    name="mem",
    section="mem",
    title="Memory",
    discover=discover_mem,
    check=check_mem,
    default_params=MemParams(),
)


mem_section = AgentSection("mem", parse_mem)
