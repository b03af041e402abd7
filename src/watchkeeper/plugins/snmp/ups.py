"""UPSes over the standard UPS-MIB (RFC 1628, 1.3.6.1.2.1.33): where the output comes from
(mains, battery, bypass), the battery's state, charge and runtime left, the output load and
the alarms the UPS counts.

    upsBatteryStatus .1.2.1, upsSecondsOnBattery .1.2.2, upsEstimatedMinutesRemaining .1.2.3,
    upsEstimatedChargeRemaining .1.2.4, upsOutputSource .1.4.1, upsOutputPercentLoad
    .1.4.4.1.5 (per output line), upsAlarmsPresent .1.6.1

Some UPSes report 0 minutes remaining while on mains when they do not estimate runtime (a
Phoenixtec recording does): on mains with a normal battery, 0 is taken as "not reported".
"""

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

BATTERY = SnmpTable("1.3.6.1.2.1.33.1.2", ("1", "2", "3", "4"), scalars=True)
OUTPUT = SnmpTable("1.3.6.1.2.1.33.1.4", ("1",), scalars=True)
OUTPUT_LINES = SnmpTable("1.3.6.1.2.1.33.1.4.4.1", ("5",))
ALARMS = SnmpTable("1.3.6.1.2.1.33.1.6", ("1",), scalars=True)

OUTPUT_SOURCES = {1: "other", 2: "none", 3: "normal", 4: "bypass", 5: "battery", 6: "booster", 7: "reducer"}
BATTERY_STATES = {1: "unknown", 2: "normal", 3: "low", 4: "depleted"}


@dataclass(frozen=True, slots=True)
class Ups:
    output_source: str
    battery_status: str
    seconds_on_battery: int | None
    minutes_remaining: int | None
    charge_percent: int | None
    load_percent: int | None
    alarms: int | None


@dataclass(frozen=True, slots=True)
class UpsParams:
    minutes_remaining: Fixed | None = Fixed(warn=15.0, crit=10.0)
    charge_percent: Fixed | None = Fixed(warn=80.0, crit=50.0)
    load_percent: Levels | None = Fixed(warn=80.0, crit=90.0)


def parse_ups(table: StringTable) -> Ups | None:
    battery, output, lines, alarms = snmp_rows(table, 4)
    battery_row, output_row = battery.get("0", []), output.get("0", [])

    def number(row: list[str], column: int) -> int | None:
        value = to_int(snmp_cell(row, column))
        return value if value is not None and value >= 0 else None

    source, status = number(output_row, 0), number(battery_row, 0)
    if source is None and status is None:
        return None  # no UPS-MIB on this device
    loads = [load for row in lines.values() if (load := number(row, 0)) is not None]
    minutes = number(battery_row, 2)
    if minutes == 0 and source == 3 and status == 2:
        minutes = None
    return Ups(output_source=OUTPUT_SOURCES.get(source or 1, "other"),
               battery_status=BATTERY_STATES.get(status or 1, "unknown"),
               seconds_on_battery=number(battery_row, 1), minutes_remaining=minutes,
               charge_percent=number(battery_row, 3), load_percent=max(loads) if loads else None,
               alarms=number(alarms.get("0", []), 0))


def discover_ups(section: Ups) -> DiscoveryResult:
    yield Service()


def check_ups(item: str, params: UpsParams, section: Ups, store: ValueStore, now: float) -> CheckResult:
    source = section.output_source
    if source == "battery":
        since = section.seconds_on_battery
        yield Result(State.WARN, "on battery" + (f" for {render.timespan(since)}" if since else ""))
    elif source == "bypass":
        yield Result(State.WARN, "output on bypass: the load is not protected")
    elif source in ("none", "other"):
        yield Result(State.CRIT, f"output source {source}: the load may have no power")
    else:
        yield Result(State.OK, f"output from mains ({source})")
    status = section.battery_status
    if status in ("low", "depleted"):
        yield Result(State.CRIT, f"battery {status}")
    elif status == "unknown":
        yield Result(State.UNKNOWN, "the UPS does not know its battery's state")
    if section.minutes_remaining is not None:
        yield from check_levels(section.minutes_remaining * 60.0,
                                levels_lower=_minutes_to_seconds(params.minutes_remaining),
                                metric_name="ups_runtime_seconds", label="runtime left", render_func=render.timespan)
    if section.charge_percent is not None:
        yield from check_levels(section.charge_percent, levels_lower=params.charge_percent,
                                metric_name="ups_charge_percent", label="charge", render_func=render.percent,
                                boundaries=(0.0, 100.0))
    if section.load_percent is not None:
        yield from check_levels(section.load_percent, levels_upper=params.load_percent,
                                metric_name="ups_load_percent", label="load", render_func=render.percent)
    if section.alarms:
        yield Result(State.WARN, f"{section.alarms} alarms present on the UPS")


def _minutes_to_seconds(levels: Fixed | None) -> Fixed | None:
    return Fixed(warn=levels.warn * 60.0, crit=levels.crit * 60.0) if levels is not None else None


snmp_ups_section = snmp_section("snmp_ups", parse_ups, (BATTERY, OUTPUT, OUTPUT_LINES, ALARMS))

snmp_ups = CheckPlugin(name="snmp_ups", section="snmp_ups", title="UPS", discover=discover_ups, check=check_ups,
                       default_params=UpsParams())
