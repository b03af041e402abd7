"""Temperatures, fans and power supplies of switches, routers and appliances.

Two sources give the same `Sensors` value:

- ENTITY-SENSOR-MIB (entPhySensorTable 1.3.6.1.2.1.99.1.1.1: type, scale, precision, value,
  operational status), named by ENTITY-MIB's entPhysicalName or entPhysicalDescr;
- CISCO-ENVMON-MIB (1.3.6.1.4.1.9.9.13.1): temperatures with the device's own threshold and
  state, fans and power supplies with their state;
- LM-SENSORS-MIB (1.3.6.1.4.1.2021.13.16), Net-SNMP's view of lm-sensors on Linux hosts and
  Linux-based NAS boxes: temperatures (millidegrees), fans (rpm), voltages (millivolts) and other
  readings, named by the sensor's label, without thresholds or states of their own. A fan that
  reads 0 rpm at discovery is a header with nothing on it and gets no service; one that stops
  later is CRIT.

A sensor the device calls failed is CRIT whatever its value; a temperature is also judged on
levels (the device's threshold where it has one). Other ENTITY sensors (volts, amperes, watts)
are one summary service that names any that stopped working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Metric,
    Result,
    Service,
    SnmpTable,
    State,
    StringTable,
    ValueStore,
    check_levels,
    snmp_cell,
    snmp_rows,
    snmp_section,
    snmp_text,
    to_float,
    to_int,
)

ENT_SENSOR = SnmpTable("1.3.6.1.2.1.99.1.1.1", ("1", "2", "3", "4", "5"))
S_TYPE, S_SCALE, S_PRECISION, S_VALUE, S_STATUS = range(5)
ENT_PHYSICAL = SnmpTable("1.3.6.1.2.1.47.1.1.1.1", ("2", "7"))
P_DESCR, P_NAME = range(2)
ENVMON_TEMPERATURE = SnmpTable("1.3.6.1.4.1.9.9.13.1.3.1", ("2", "3", "4", "6"))
ENVMON_FAN = SnmpTable("1.3.6.1.4.1.9.9.13.1.4.1", ("2", "3"))
ENVMON_SUPPLY = SnmpTable("1.3.6.1.4.1.9.9.13.1.5.1", ("2", "3"))
LM_TABLES = tuple(SnmpTable(f"1.3.6.1.4.1.2021.13.16.{number}.1", ("2", "3")) for number in (2, 3, 4, 5))
LM_KINDS = (("temperature", "°C", 0.001), ("fan", "rpm", 1.0), ("voltage", "V", 0.001), ("other", "", 1.0))

ENTITY_KINDS = {"3": ("voltage", "V AC"), "4": ("voltage", "V DC"), "5": ("current", "A"), "6": ("power", "W"),
                "7": ("frequency", "Hz"), "8": ("temperature", "°C"), "9": ("humidity", "%RH"), "10": ("fan", "rpm")}
SCALE_EXPONENTS = {1: -24, 2: -21, 3: -18, 4: -15, 5: -12, 6: -9, 7: -6, 8: -3, 9: 0, 10: 3, 11: 6, 12: 9, 13: 12,
                   14: 18, 15: 15, 16: 21, 17: 24}  # RFC 3433's order: exa(14) before peta(15)
ENTITY_STATUS = {"1": "ok", "2": "unavailable", "3": "failed"}
ENVMON_STATES = {"1": "ok", "2": "warning", "3": "critical", "4": "shutdown", "5": "absent", "6": "failed"}


@dataclass(frozen=True, slots=True)
class Sensor:
    kind: str
    value: float | None
    unit: str
    status: str
    """ok, warning, critical, shutdown, failed, unavailable or absent: the device's word."""
    device_crit: float | None = None
    zero_is_no_fan: bool = False
    """LM-SENSORS: a fan header reads 0 rpm with nothing on it (such a source has no status)."""


Sensors = dict[str, Sensor]


def parse_entity_sensors(table: StringTable) -> Sensors | None:
    sensor_rows, physical_rows = snmp_rows(table, 2)
    wanted: list[tuple[str, str, Sensor]] = []
    for index, row in sensor_rows.items():
        kind, unit = ENTITY_KINDS.get(snmp_cell(row, S_TYPE), ("", ""))
        if not kind:
            continue
        raw = to_int(snmp_cell(row, S_VALUE))
        scale, precision = to_int(snmp_cell(row, S_SCALE)), to_int(snmp_cell(row, S_PRECISION))
        exponent = SCALE_EXPONENTS.get(scale if scale is not None else 9, 0) - (precision or 0)
        value = raw * 10.0**exponent if raw is not None and -30 <= exponent <= 30 else None
        physical = physical_rows.get(index, [])
        name = snmp_text(snmp_cell(physical, P_NAME)) or snmp_text(snmp_cell(physical, P_DESCR))
        wanted.append((index, " ".join(name.split()) or f"sensor {index}",
                       Sensor(kind, value, unit, ENTITY_STATUS.get(snmp_cell(row, S_STATUS), "unavailable"))))
    return _unique(wanted)


def parse_cisco_envmon(table: StringTable) -> Sensors | None:
    temperatures, fans, supplies = snmp_rows(table, 3)
    wanted: list[tuple[str, str, Sensor]] = []
    for index, row in temperatures.items():
        threshold = to_float(snmp_cell(row, 2))
        wanted.append((index, snmp_text(snmp_cell(row, 0)),
                       Sensor("temperature", to_float(snmp_cell(row, 1)), "°C", _envmon_state(row, 3),
                              threshold if threshold else None)))
    for kind, rows in (("fan", fans), ("power supply", supplies)):
        for index, row in rows.items():
            wanted.append((index, snmp_text(snmp_cell(row, 0)), Sensor(kind, None, "", _envmon_state(row, 1))))
    return _unique(wanted)


def parse_lm_sensors(table: StringTable) -> Sensors | None:
    wanted: list[tuple[str, str, Sensor]] = []
    for (kind, unit, factor), rows in zip(LM_KINDS, snmp_rows(table, len(LM_KINDS)), strict=True):
        for index, row in rows.items():
            raw = to_float(snmp_cell(row, 1))
            wanted.append((index, snmp_text(snmp_cell(row, 0)),
                           Sensor(kind, raw * factor if raw is not None else None, unit,
                                  "ok" if raw is not None else "unavailable", zero_is_no_fan=kind == "fan")))
    return _unique(wanted)


def _envmon_state(row: list[str], column: int) -> str:
    return ENVMON_STATES.get(snmp_cell(row, column), "unavailable")


def _unique(wanted: list[tuple[str, str, Sensor]]) -> Sensors | None:
    names = [" ".join(name.split()) or f"sensor {index}" for index, name, _ in wanted]
    found: Sensors = {}
    for (index, _, sensor), name in zip(wanted, names, strict=True):
        found[name if names.count(name) == 1 else f"{name} {index}"] = sensor
    return found or None


@dataclass(frozen=True, slots=True)
class TemperatureParams:
    celsius: Levels | None = Fixed(warn=60.0, crit=70.0)
    """Used where the device gives no threshold of its own."""


@dataclass(frozen=True, slots=True)
class NoSensorParams:
    pass


def discover_kind(kind: str) -> Callable[[Sensors], DiscoveryResult]:
    def discover(section: Sensors) -> DiscoveryResult:
        for name, sensor in section.items():
            if sensor.kind == kind and sensor.status != "absent" and not (sensor.zero_is_no_fan and sensor.value == 0):
                yield Service(name)
    return discover


def _status_result(sensor: Sensor) -> Result | None:
    if sensor.status in ("critical", "shutdown", "failed"):
        return Result(State.CRIT, f"the device reports it {'as ' if sensor.status != 'shutdown' else ''}"
                      f"{sensor.status}")
    if sensor.status == "warning":
        return Result(State.WARN, "the device reports a warning")
    if sensor.status in ("unavailable", "absent"):
        return Result(State.UNKNOWN, f"the device reports the sensor {sensor.status}")
    return None


def _missing(kind: str, item: str) -> Result:
    return Result(State.CRIT, f"{kind} {item!r} is no longer reported by the device; if it was removed, "
                  "run service discovery for this host again")


def check_temperature(item: str, params: TemperatureParams, section: Sensors, store: ValueStore,
                      now: float) -> CheckResult:
    sensor = section.get(item)
    if sensor is None:
        yield _missing("temperature sensor", item)
        return
    status = _status_result(sensor)
    if status is not None:
        yield status
    if sensor.value is None:
        return
    levels: Levels | None = params.celsius
    if sensor.device_crit is not None:
        levels = Fixed(warn=sensor.device_crit - 5.0, crit=sensor.device_crit)
    yield from check_levels(sensor.value, levels_upper=levels, metric_name="temperature_celsius",
                            label="Temperature", render_func=lambda v: f"{v:.1f} °C")


def check_device_state(item: str, params: NoSensorParams, section: Sensors, store: ValueStore,
                       now: float) -> CheckResult:
    sensor = section.get(item)
    if sensor is None:
        yield _missing(item, item)
        return
    status = _status_result(sensor)
    if status is not None:
        yield status
    if sensor.kind == "fan" and sensor.value is not None:
        if sensor.value <= 0 and status is None:
            yield Result(State.CRIT, "stopped (0 rpm)")
        else:
            yield Result(State.OK, f"{sensor.value:.0f} rpm")
        yield Metric("fan_rpm", sensor.value)
    elif status is None:
        yield Result(State.OK, "the device reports it ok")


def discover_summary(section: Sensors) -> DiscoveryResult:
    if any(sensor.kind not in ("temperature", "fan", "power supply") for sensor in section.values()):
        yield Service()


def check_summary(item: str, params: NoSensorParams, section: Sensors, store: ValueStore, now: float) -> CheckResult:
    others = {name: sensor for name, sensor in section.items()
              if sensor.kind not in ("temperature", "fan", "power supply")}
    failed = sorted(name for name, sensor in others.items() if sensor.status == "failed")
    unavailable = sorted(name for name, sensor in others.items() if sensor.status == "unavailable")
    if failed:
        yield Result(State.CRIT, f"{len(failed)} sensors failed: {', '.join(failed)}")
    if unavailable:
        yield Result(State.OK, f"{len(unavailable)} unavailable (not fitted or not reading): "
                     f"{', '.join(unavailable[:10])}{' …' if len(unavailable) > 10 else ''}")
    kinds: dict[str, int] = {}
    for sensor in others.values():
        kinds[sensor.kind] = kinds.get(sensor.kind, 0) + 1
    yield Result(State.OK, f"{len(others)} sensors (" + ", ".join(f"{count} {kind}" for kind, count in
                                                                 sorted(kinds.items())) + ")")


entity_sensor_section = snmp_section("snmp_entity_sensors", parse_entity_sensors, (ENT_SENSOR, ENT_PHYSICAL),
                                     parsed_section="snmp_sensors")
lm_sensors_section = snmp_section("snmp_lm_sensors", parse_lm_sensors, LM_TABLES, parsed_section="snmp_sensors")
cisco_envmon_section = snmp_section("snmp_cisco_envmon", parse_cisco_envmon,
                                    (ENVMON_TEMPERATURE, ENVMON_FAN, ENVMON_SUPPLY), parsed_section="snmp_sensors")

snmp_temperature = CheckPlugin(name="snmp_temperature", section="snmp_sensors", title="Temperature %s",
                               discover=discover_kind("temperature"),
                               check=check_temperature, default_params=TemperatureParams())
snmp_fans = CheckPlugin(name="snmp_fans", section="snmp_sensors", title="Fan %s",
                        discover=discover_kind("fan"),
                        check=check_device_state, default_params=NoSensorParams())
snmp_power_supplies = CheckPlugin(name="snmp_power_supplies", section="snmp_sensors", title="Power supply %s",
                                  discover=discover_kind("power supply"),
                                  check=check_device_state, default_params=NoSensorParams())
snmp_sensor_summary = CheckPlugin(name="snmp_sensors", section="snmp_sensors", title="Sensors",
                                  discover=discover_summary, check=check_summary, default_params=NoSensorParams())
