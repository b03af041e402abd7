"""A host's own sensors: lm-sensors' text (a real Raptor Lake coretemp) and a BMC's `ipmitool sdr`
(a real full dump) through the agent's section into the Temperature, Fan, Power supply and
Sensors services; a hot CPU, a stopped fan, a failed power supply; hostile input."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, outcomes, results, run_after_discovery
from watchkeeper.checkapi import SectionUnparsed, State, StringTable
from watchkeeper.plugins.sensors.checks import TemperatureParams, check_temperature
from watchkeeper.plugins.sensors.host import parse_host_sensors

FIXTURES = fixtures(__file__)
LM = (FIXTURES / "lm_sensors" / "raptorlake-coretemp.txt").read_text()
IPMI = (FIXTURES / "ipmitool_sdr" / "ibm-system-x.txt").read_text()
HEADER = b"<<<check_mk>>>\nAgentOS: linux\n"


def output(lm: str = LM, ipmi: str = IPMI) -> bytes:
    return HEADER + f"<<<sensors:sep(0)>>>\n[lm-sensors]\n{lm}[ipmi]\n{ipmi}".encode()


def test_a_real_host_gives_cpu_temperatures_with_their_own_limits_and_the_bmcs_sensors() -> None:
    found = outcomes(output())
    package = found["Temperature Package id 0"]
    assert package.state == State.OK and package.summary == "Temperature: 35.0 °C"
    assert found["Temperature Ambient Temp"].state == State.OK
    assert found["Fan Fan 1A Tach"].summary == "2610 rpm"
    assert {"Power supply Power Supply 1", "Power supply Power Supply 2"} <= set(found)
    summary = found["Sensors"]
    assert summary.state == State.OK
    assert "2 unavailable (not fitted or not reading): DASD Backplane 3" in summary.summary
    assert found["Agent"].state == State.OK, found["Agent"]


def test_a_hot_cpu_warns_at_its_high_limit_and_is_critical_at_its_crit_limit() -> None:
    sensors = parse_host_sensors([["[lm-sensors]"], *([line] for line in LM.splitlines())])
    assert sensors is not None
    for value, state in ((85.0, State.WARN), (101.0, State.CRIT), (79.0, State.OK)):
        hot = {"Package id 0": replace(sensors["Package id 0"], value=value)}
        (judged,) = results(check_temperature("Package id 0", TemperatureParams(), hot, {}, 0.0))
        assert judged.state == state
        assert state == State.OK or "(warn/crit at 80.0 °C/100.0 °C)" in judged.summary


def test_a_stopped_fan_a_failed_power_supply_and_a_critical_discrete_sensor() -> None:
    broken = (IPMI.replace("Fan 1A Tach      | 2610 RPM          | ok", "Fan 1A Tach      | 0 RPM             | cr")
              .replace("Power Supply 2   | 0x00              | ok", "Power Supply 2   | 0x02              | cr")
              .replace("PS 2 Fan Fault   | 0x00              | ok", "PS 2 Fan Fault   | 0x01              | nc"))
    assert broken != IPMI
    found = run_after_discovery(output(), output(ipmi=broken))
    assert found["Fan Fan 1A Tach"].state == State.CRIT
    assert found["Power supply Power Supply 2"].state == State.CRIT
    assert found["Sensors"].state == State.WARN and "1 sensors warn: PS 2 Fan Fault" in found["Sensors"].summary


def test_lm_sensors_alarm_and_a_sensor_gone_are_seen() -> None:
    alarmed = LM.replace("Core 0:        +32.0°C  (high = +80.0°C, crit = +100.0°C)",
                         "Core 0:        +32.0°C  (high = +80.0°C, crit = +100.0°C)  ALARM")
    found = run_after_discovery(output(), output(lm=alarmed.replace("Core 4:", "Kern 4:")))
    assert found["Temperature Core 0"].state == State.WARN and "warning" in found["Temperature Core 0"].summary
    gone = found["Temperature Core 4"]
    assert gone.state == State.CRIT and "no longer reported" in gone.summary


def test_a_section_without_blocks_is_unparsed() -> None:
    try:
        parse_host_sensors([["some", "noise"]])
    except SectionUnparsed:
        return
    raise AssertionError("parsed")


@given(st.lists(st.one_of(st.sampled_from(["[lm-sensors]", "[ipmi]", "coretemp-isa-0000", "x | 1 RPM | cr",
                                           "t: +1e308°C (high = +nan°C, crit = 99999999999999999999)"]),
                          st.text(max_size=200)), max_size=40))
def test_any_lines_parse_or_are_unparsed_never_crash(lines: list[str]) -> None:
    table: StringTable = [[line] for line in lines]
    try:
        sensors = parse_host_sensors(table)
    except SectionUnparsed:
        return
    for name, sensor in (sensors or {}).items():
        list(check_temperature(name, TemperatureParams(), sensors or {}, {}, 0.0))
        assert sensor.kind


def test_a_reading_followed_by_200_000_digits_is_read_in_linear_time() -> None:
    """The fuzzer's find: a limits text without `=` made the limit pattern quadratic (40 s)."""
    line = next(line for line in LM.splitlines() if line.startswith("Core 0:"))
    table: StringTable = [["[lm-sensors]"], ["coretemp-isa-0000"], [line + "9" * 200_000]]
    parsed = parse_host_sensors(table)
    assert parsed is not None
