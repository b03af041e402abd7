"""One value for sensors from every source (SNMP tables, lm-sensors, IPMI): by name, each with
its kind, reading, the source's word for its state, and the source's own levels."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sensor:
    kind: str
    value: float | None
    unit: str
    status: str
    """ok, warning, critical, shutdown, failed, unavailable or absent: the device's word."""
    device_crit: float | None = None
    device_warn: float | None = None
    """The source's own levels (a sensor's `high` and `crit`); None where it has none."""
    zero_is_no_fan: bool = False
    """lm-sensors (on the host or over SNMP): a fan header reads 0 rpm with nothing on it."""


Sensors = dict[str, Sensor]



def unique_names(wanted: list[tuple[str, str, Sensor]]) -> Sensors | None:
    """(index, name, sensor) to sensors by name; a name used twice gets its index added."""
    names = [" ".join(name.split()) or f"sensor {index}" for index, name, _ in wanted]
    used = Counter(names)  # counted once: a chassis reports thousands of sensors
    found: Sensors = {}
    for (index, _, sensor), name in zip(wanted, names, strict=True):
        found[name if used[name] == 1 else f"{name} {index}"] = sensor
    return found or None
