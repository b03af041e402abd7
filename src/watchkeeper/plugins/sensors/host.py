"""A host's own sensors, from `<<<sensors:sep(0)>>>`: lm-sensors' and the BMC's (IPMI) readings.

    [lm-sensors]                                  `sensors` (plain text, chip by chip)
    coretemp-isa-0000
    Adapter: ISA adapter
    Package id 0:  +35.0°C  (high = +80.0°C, crit = +100.0°C)
    fan1:        1200 RPM  (min =    0 RPM)
    in0:          +1.03 V  (min =  +0.00 V, max =  +1.74 V)  ALARM
    [ipmi]                                        `ipmitool sdr`: name | reading | status
    Ambient Temp     | 20 degrees C      | ok
    Power Supply 1   | 0x00              | ok
    DASD Backplane 3 | Not Readable      | ns
    [http]                                        a network sensor device (collect/http_sensors.py)
    Internal	temperature	14.26	°C	ok            name, kind, value, unit, status (tab-separated)

Both become the `sensors` value the Temperature, Fan, Power supply and Sensors services read
(`checks.py`). lm-sensors' `high` and `crit` limits are the temperature levels; `ALARM` is the
chip's own warning. IPMI status: ok; nc (non-critical) a warning; cr (critical) critical; nr
(non-recoverable) failed; ns (no sensor) unavailable, which is not a failure. A discrete IPMI
sensor named like a power supply (`Power Supply 1`, `PS2 Status`) is a power supply; the other
discrete ones go to the summary. A sensor name used twice gets its chip added.
"""

from __future__ import annotations

import re

from watchkeeper.checkapi import AgentSection, SectionUnparsed, StringTable, to_float
from watchkeeper.plugins.sensors.model import Sensor, Sensors, unique_names

_READING = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(°C|C|RPM|V|W|A|mW|mV)?$")
_LIMIT = re.compile(r"(\w[\w ]{0,40}?)\s*=\s*([+-]?\d{1,20}(?:\.\d{1,20})?)")
"""`high = +80.0`: the name is bounded, or a long line without `=` costs quadratic time."""
_LM_KINDS = {"°C": ("temperature", "°C"), "C": ("temperature", "°C"), "RPM": ("fan", "rpm"), "V": ("voltage", "V"),
             "mV": ("voltage", "V"), "W": ("power", "W"), "mW": ("power", "W"), "A": ("current", "A")}
_IPMI_UNITS = {"degrees C": ("temperature", "°C"), "RPM": ("fan", "rpm"), "Volts": ("voltage", "V"),
               "Watts": ("power", "W"), "Amps": ("current", "A"), "percent": ("other", "%")}
_IPMI_STATUS = {"ok": "ok", "nc": "warning", "cr": "critical", "nr": "failed", "ns": "unavailable"}
_POWER_SUPPLY = re.compile(r"(?i)^(power supply|psu?)\s*\d+(\s+status)?$")


def parse_host_sensors(table: StringTable) -> Sensors | None:
    block, lm, ipmi, http = "", [], [], []
    for row in table:
        line = row[0] if row else ""
        if line in ("[lm-sensors]", "[ipmi]", "[http]"):
            block = line
        elif block == "[lm-sensors]":
            lm.append(line)
        elif block == "[ipmi]":
            ipmi.append(line)
        elif block == "[http]":
            http.append(line)
    if table and not block:
        raise SectionUnparsed("no [lm-sensors], [ipmi] or [http] block")
    return unique_names(_lm_sensors(lm) + _ipmi(ipmi) + _http(http))


def _lm_sensors(lines: list[str]) -> list[tuple[str, str, Sensor]]:
    found: list[tuple[str, str, Sensor]] = []
    chip = ""
    for line in lines:
        if not line.strip():
            continue
        if not line[0].isspace() and ":" not in line:
            chip = line.strip()
            continue
        label, colon, rest = line.partition(":")
        if not colon or label.startswith(" ") or label == "Adapter":
            continue  # a continuation of the limits above, or the chip's adapter
        reading, _, limits = rest.strip().partition("(")
        alarm = "ALARM" in rest
        reading = reading.replace("ALARM", "").strip()
        match = _READING.match(reading)
        if match is None:
            if reading.upper().startswith("N/A"):
                found.append((chip, label.strip(), Sensor("other", None, "", "unavailable")))
            continue
        kind, unit = _LM_KINDS.get(match.group(2) or "", ("other", ""))
        value = float(match.group(1)) / (1000.0 if match.group(2) in ("mV", "mW") else 1.0)
        named = {name.strip(): float(number) for name, number in _LIMIT.findall(limits)}
        crit = named.get("crit") if kind == "temperature" else None
        high = named.get("high") if kind == "temperature" else None
        found.append((chip, label.strip(), Sensor(kind, value, unit, "warning" if alarm else "ok", device_crit=crit,
                                                  device_warn=high, zero_is_no_fan=kind == "fan")))
    return found


def _ipmi(lines: list[str]) -> list[tuple[str, str, Sensor]]:
    found: list[tuple[str, str, Sensor]] = []
    for line in lines:
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 3 or not parts[0]:
            continue
        name, reading, status = parts[0], parts[1], _IPMI_STATUS.get(parts[2].lower(), "unavailable")
        number, _, unit_text = reading.partition(" ")
        kind, unit = _IPMI_UNITS.get(unit_text.strip(), ("", ""))
        value = to_float(number) if kind else None
        if not kind:  # discrete (0x00), or no reading at all
            kind = "power supply" if _POWER_SUPPLY.match(name) else "other"
            if reading.lower() in ("no reading", "not readable", "disabled", "na"):
                status = "unavailable" if status in ("ok", "unavailable") else status
        found.append(("ipmi", name, Sensor(kind, value, unit, status)))
    return found


def _http(lines: list[str]) -> list[tuple[str, str, Sensor]]:
    found: list[tuple[str, str, Sensor]] = []
    for line in lines:
        fields = line.split("\t")
        if len(fields) != 5 or not fields[0]:
            continue
        name, kind, value, unit, status = fields
        found.append(("http", name, Sensor(kind or "other", to_float(value), unit, status or "unavailable")))
    return found


host_sensors_section = AgentSection("sensors", parse_host_sensors)
