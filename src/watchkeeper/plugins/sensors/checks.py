"""Services over the `sensors` value, whichever source made it: `Temperature NAME` (levels: the
source's own high/crit where it has them, else 60/70 °C), `Fan NAME`, `Power supply NAME`, and
one `Sensors` summary of the other readings (volts, amperes, watts) naming any that failed.

A sensor its source calls failed is CRIT whatever its value; one that vanished is CRIT (if it
was removed on purpose, discovery accepts that).
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
    State,
    ValueStore,
    check_levels,
)
from watchkeeper.plugins.sensors.model import Sensor, Sensors


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
        warn = sensor.device_warn if sensor.device_warn is not None and sensor.device_warn < sensor.device_crit \
            else sensor.device_crit - 5.0
        levels = Fixed(warn=warn, crit=sensor.device_crit)
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
    failed = sorted(name for name, sensor in others.items() if sensor.status in ("failed", "critical", "shutdown"))
    warning = sorted(name for name, sensor in others.items() if sensor.status == "warning")
    unavailable = sorted(name for name, sensor in others.items() if sensor.status == "unavailable")
    if failed:
        yield Result(State.CRIT, f"{len(failed)} sensors failed or critical: {', '.join(failed)}")
    if warning:
        yield Result(State.WARN, f"{len(warning)} sensors warn: {', '.join(warning)}")
    if unavailable:
        yield Result(State.OK, f"{len(unavailable)} unavailable (not fitted or not reading): "
                     f"{', '.join(unavailable[:10])}{' …' if len(unavailable) > 10 else ''}")
    kinds: dict[str, int] = {}
    for sensor in others.values():
        kinds[sensor.kind] = kinds.get(sensor.kind, 0) + 1
    yield Result(State.OK, f"{len(others)} sensors (" + ", ".join(f"{count} {kind}" for kind, count in
                                                                 sorted(kinds.items())) + ")")


temperature = CheckPlugin(name="temperature", section="sensors", title="Temperature %s",
                          discover=discover_kind("temperature"), check=check_temperature,
                          default_params=TemperatureParams())
fans = CheckPlugin(name="fans", section="sensors", title="Fan %s", discover=discover_kind("fan"),
                   check=check_device_state, default_params=NoSensorParams())
power_supplies = CheckPlugin(name="power_supplies", section="sensors", title="Power supply %s",
                             discover=discover_kind("power supply"), check=check_device_state,
                             default_params=NoSensorParams())
sensor_summary = CheckPlugin(name="sensors", section="sensors", title="Sensors", discover=discover_summary,
                             check=check_summary, default_params=NoSensorParams())
