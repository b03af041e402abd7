"""CPU load from `<<<cpu>>>`: /proc/loadavg plus the number of CPUs (old agents omit it).

    0.79 0.39 0.17 3/114 8933 2
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
    Service,
    StringTable,
    ValueStore,
    check_levels,
    render,
    to_float,
    to_int,
)


@dataclass(frozen=True, slots=True)
class Load:
    load1: float
    load5: float
    load15: float
    cpus: int


@dataclass(frozen=True, slots=True)
class LoadParams:
    per_core_load15: Levels | None = Fixed(warn=5.0, crit=10.0)


def parse_cpu_load(table: StringTable) -> Load | None:
    if not table or len(table[0]) < 3:
        return None
    row = table[0]
    load1, load5, load15 = to_float(row[0]), to_float(row[1]), to_float(row[2])
    if load1 is None or load5 is None or load15 is None:
        return None
    cpus = (to_int(row[5]) or 1) if len(row) > 5 else 1
    cpus = cpus if 0 < cpus < 1_000_000 else 1
    return Load(load1, load5, load15, cpus)


def discover_cpu_load(section: Load) -> DiscoveryResult:
    yield Service()


def check_cpu_load(item: str, params: LoadParams, section: Load, store: ValueStore, now: float) -> CheckResult:
    yield from check_levels(
        section.load15 / section.cpus,
        levels_upper=params.per_core_load15,
        label=f"15 min load per core ({section.cpus} cores)",
        render_func=render.number,
    )
    yield from check_levels(section.load1, metric_name="load1", label="1 min load", render_func=render.number)
    yield from check_levels(section.load5, metric_name="load5", label="5 min load", render_func=render.number)
    yield Metric("load15", section.load15)


cpu_load = CheckPlugin(
    name="cpu_load",
    section="cpu",
    title="CPU load",
    discover=discover_cpu_load,
    check=check_cpu_load,
    default_params=LoadParams(),
)


cpu_section = AgentSection("cpu", parse_cpu_load)
