"""Processor load of a NAS box or server from HOST-RESOURCES-MIB's hrProcessorTable: each
processor's busy percentage over the last minute (hrProcessorLoad), averaged."""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Result,
    Service,
    SnmpTable,
    State,
    StringTable,
    ValueStore,
    check_levels,
    render,
    snmp_cell,
    snmp_rows,
    snmp_section,
    to_int,
)

HR_PROCESSOR = SnmpTable("1.3.6.1.2.1.25.3.3.1", ("2",))


@dataclass(frozen=True, slots=True)
class ProcessorLoad:
    percents: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ProcessorParams:
    busy_percent: Levels | None = Fixed(warn=80.0, crit=90.0)


def parse_hr_processor(table: StringTable) -> ProcessorLoad | None:
    (rows,) = snmp_rows(table, 1)
    loads = [to_int(snmp_cell(row, 0)) for row in rows.values()]
    percents = tuple(load for load in loads if load is not None and 0 <= load <= 100)
    return ProcessorLoad(percents) if percents else None


def discover_processors(section: ProcessorLoad) -> DiscoveryResult:
    yield Service()


def check_processors(item: str, params: ProcessorParams, section: ProcessorLoad, store: ValueStore,
                     now: float) -> CheckResult:
    average = sum(section.percents) / len(section.percents)
    yield from check_levels(average, levels_upper=params.busy_percent, metric_name="cpu_busy_percent",
                            label="Busy", render_func=render.percent, boundaries=(0.0, 100.0))
    yield Result(State.OK, f"{len(section.percents)} processors, busiest {max(section.percents)} %")


snmp_processor_section = snmp_section("snmp_hr_processor", parse_hr_processor, (HR_PROCESSOR,))

snmp_processors = CheckPlugin(
    name="snmp_processors",
    section="snmp_hr_processor",
    title="CPU utilization",
    discover=discover_processors,
    check=check_processors,
    default_params=ProcessorParams(),
)
