"""Temperatures, fans and power supplies of switches, routers and appliances, read over SNMP
into the `sensors` value that `plugins/sensors/checks.py` judges for every source.

Three MIBs give it:

- ENTITY-SENSOR-MIB (entPhySensorTable 1.3.6.1.2.1.99.1.1.1: type, scale, precision, value,
  operational status), named by ENTITY-MIB's entPhysicalName or entPhysicalDescr;
- CISCO-ENVMON-MIB (1.3.6.1.4.1.9.9.13.1): temperatures with the device's own threshold and
  state, fans and power supplies with their state;
- LM-SENSORS-MIB (1.3.6.1.4.1.2021.13.16), Net-SNMP's view of lm-sensors on Linux hosts and
  Linux-based NAS boxes: temperatures (millidegrees), fans (rpm), voltages (millivolts) and other
  readings, named by the sensor's label, without thresholds or states of their own. A fan that
  reads 0 rpm at discovery is a header with nothing on it and gets no service; one that stops
  later is CRIT.

"""

from __future__ import annotations

from watchkeeper.checkapi import (
    SnmpTable,
    StringTable,
    snmp_cell,
    snmp_rows,
    snmp_section,
    snmp_text,
    to_float,
    to_int,
)
from watchkeeper.plugins.sensors.model import Sensor, Sensors, unique_names

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
    return unique_names(wanted)


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
    return unique_names(wanted)


def parse_lm_sensors(table: StringTable) -> Sensors | None:
    wanted: list[tuple[str, str, Sensor]] = []
    for (kind, unit, factor), rows in zip(LM_KINDS, snmp_rows(table, len(LM_KINDS)), strict=True):
        for index, row in rows.items():
            raw = to_float(snmp_cell(row, 1))
            wanted.append((index, snmp_text(snmp_cell(row, 0)),
                           Sensor(kind, raw * factor if raw is not None else None, unit,
                                  "ok" if raw is not None else "unavailable", zero_is_no_fan=kind == "fan")))
    return unique_names(wanted)


def _envmon_state(row: list[str], column: int) -> str:
    return ENVMON_STATES.get(snmp_cell(row, column), "unavailable")


entity_sensor_section = snmp_section("snmp_entity_sensors", parse_entity_sensors, (ENT_SENSOR, ENT_PHYSICAL),
                                     parsed_section="sensors")
lm_sensors_section = snmp_section("snmp_lm_sensors", parse_lm_sensors, LM_TABLES, parsed_section="sensors")
cisco_envmon_section = snmp_section("snmp_cisco_envmon", parse_cisco_envmon,
                                    (ENVMON_TEMPERATURE, ENVMON_FAN, ENVMON_SUPPLY), parsed_section="sensors")

