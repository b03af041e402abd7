"""Recorded walks of real switches, a NAS and UPSes, served by snmpsim on loopback, fetched by
the SNMP transport and checked by the engine as the daemon does: discovery, then cycles in
which the recordings change (a port going down, counters wrapping, a fan failing, a UPS on
battery, the device gone)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.labs.snmp import COMMUNITY, SensorHost, SnmpSim, sensor_host, snmpsim, walks_to  # noqa: F401 (fixture)
from watchkeeper.checkapi import State
from watchkeeper.collect.snmp import SnmpCredentials, SnmpTransport
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.engine.cycle import run_host_cycle
from watchkeeper.engine.discovery import discover_in_output
from watchkeeper.errors import AgentUnreachable, CollectError
from watchkeeper.model.cycles import Outcome, ServiceSpec

pytestmark = pytest.mark.slow

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings"
FETCHED = Path(__file__).parent / "fixtures" / "fetched"
"""What the transport writes for each recording: seeds of the parser fuzzer, kept equal to a fresh fetch."""
DEVICES = ("arista-dcs-7150s-52-cl", "cisco-c3560", "hpe-procurve-516733-b21", "isilon-onefs", "eaton-93e-80",
           "phoenixtec-power", "linux-full-walk")


def recording(name: str) -> str:
    return (RECORDINGS / f"{name}.snmprec").read_bytes().decode("latin-1")


def edited(text: str, **values: str) -> str:
    """The recording with the values of some OIDs replaced (keys: OIDs with `_` for `.`)."""
    for key, value in values.items():
        oid = key.removeprefix("o").replace("_", ".")
        text, count = re.subn(rf"^({re.escape(oid)}\|[^|]+\|).*$", rf"\g<1>{value}", text, flags=re.MULTILINE)
        assert count == 1, f"{oid} is not in the recording"
    return text


class Device:
    """One device as a host: fetched over SNMP and checked cycle by cycle with its own clock."""

    def __init__(self, lab: SnmpSim | SensorHost, name: str, timeout_s: float = 20.0, community: str = "") -> None:
        self.lab, self.name = lab, name
        self.transport = SnmpTransport(name, "127.0.0.1", lab.port, SnmpCredentials(community=community or name),
                                       builtin_catalog().snmp_sections, timeout_s=timeout_s)
        self.specs: list[ServiceSpec] = []
        self.stores: dict[str, dict[str, Any]] = {}
        self.now = 1_800_000_000.0
        self.output = b""

    async def discover(self) -> list[str]:
        self.output = (await self.transport.fetch()).data
        self.specs = discover_in_output(self.output, self.name)
        return [spec.name for spec in self.specs]

    async def cycle(self, seconds: float = 60.0) -> dict[str, Outcome]:
        self.now += seconds
        fetched: Any
        try:
            fetched = await self.transport.fetch()
        except CollectError as exc:
            fetched = exc
        result = run_host_cycle(self.name, fetched, self.specs, [], self.stores, self.now)
        return {outcome.name: outcome for outcome in result.cycle.outcomes}


@pytest.fixture
def lab(snmpsim: SnmpSim) -> Iterator[SnmpSim]:  # noqa: F811
    for name in DEVICES:
        snmpsim.serve(name, recording(name))
    snmpsim.start()
    yield snmpsim


async def test_a_switch_is_discovered_and_checked_like_a_server(lab: SnmpSim) -> None:
    arista = Device(lab, "arista-dcs-7150s-52-cl")
    names = await arista.discover()
    ports = [name for name in names if name.startswith("Interface ")]
    assert len(ports) >= 20 and "Interface Ethernet2" in names
    assert not any("Loopback" in name for name in ports)  # software loopbacks are no ports
    assert {"Uptime", "Sensors"} <= set(names)
    assert sum(name.startswith("Temperature ") for name in names) == 17
    assert sum(name.startswith("Fan ") for name in names) == 6
    first = await arista.cycle()
    assert first["Agent"].state == State.OK and "Arista Networks EOS" in first["OS"].summary
    second = await arista.cycle()
    assert second["Interface Ethernet2"].state == State.OK, second["Interface Ethernet2"]
    assert "speed" in second["Interface Ethernet2"].summary
    assert all(second[name].state == State.OK for name in names if name.startswith("Temperature ")), [
        (name, second[name].summary) for name in names if second[name].state != State.OK]
    assert second["Uptime"].state == State.OK


async def test_a_port_that_goes_down_is_critical_and_a_port_channel_names_its_lost_member(lab: SnmpSim) -> None:
    arista = Device(lab, "arista-dcs-7150s-52-cl")
    names = await arista.discover()
    channels = [name for name in names if name.startswith("Interface Port-Channel")]
    assert channels, names
    await arista.cycle()
    healthy = await arista.cycle()
    channel = healthy[channels[0]]
    assert channel.state == State.OK and "member ports up" in channel.summary, channel
    member = re.search(r"member ports up: (\S+)", channel.summary)
    assert member is not None
    index = _if_index(recording(arista.name), member.group(1))
    lab.serve(arista.name, edited(recording(arista.name), **{f"o1_3_6_1_2_1_2_2_1_8_{index}": "2"}))
    broken = await arista.cycle()
    assert broken[f"Interface {member.group(1)}"].state == State.CRIT
    assert "link is down (was up at discovery)" in broken[f"Interface {member.group(1)}"].summary
    lost = broken[channels[0]]
    assert lost.state >= State.WARN and ("redundancy lost" in lost.summary or "all" in lost.summary), lost


def _if_index(text: str, name: str) -> str:
    for line in text.splitlines():
        oid, kind, value = line.split("|", 2)
        if oid.startswith("1.3.6.1.2.1.31.1.1.1.1.") and _value(kind, value) == name:
            return oid.rsplit(".", 1)[1]
    raise AssertionError(f"no ifName {name}")


def _value(kind: str, value: str) -> str:
    return bytes.fromhex(value).decode() if kind == "4x" else value


async def test_traffic_is_a_rate_and_32_bit_counters_wrap_instead_of_resetting(lab: SnmpSim) -> None:
    eaton = Device(lab, "eaton-93e-80")  # a UPS card without ifXTable: 32-bit counters only
    text = recording(eaton.name)
    octets = "o1_3_6_1_2_1_2_2_1_10_2"  # eth0; index 1 is its loopback
    lab.serve(eaton.name, edited(text, **{octets: str(2**32 - 6000)}))
    names = await eaton.discover()
    service = "Interface eth0"
    assert [name for name in names if name.startswith("Interface ")] == [service]
    assert (await eaton.cycle())[service].state == State.OK  # first sample: rates follow
    lab.serve(eaton.name, edited(text, **{octets: "6000"}))
    wrapped = await eaton.cycle(60.0)
    rates = {metric.name: metric.value for metric in wrapped[service].metrics}
    assert rates["if_in_bytes_per_second"] == pytest.approx(12000 / 60.0), wrapped[service]


async def test_a_device_restart_resets_counters_without_a_spike_and_is_seen_on_uptime(lab: SnmpSim) -> None:
    cisco = Device(lab, "cisco-c3560")
    text = recording(cisco.name)
    names = await cisco.discover()
    port = next(name for name in names if name.startswith("Interface "))
    await cisco.cycle()
    assert (await cisco.cycle())["Uptime"].state == State.OK
    zeroed = re.sub(r"^(1\.3\.6\.1\.2\.1\.31\.1\.1\.1\.(?:6|7|8|9|10|11|12|13)\.\d+\|70\|).*$", r"\g<1>0", text,
                    flags=re.MULTILINE)
    lab.serve(cisco.name, edited(zeroed, o1_3_6_1_2_1_1_3_0="500", o1_3_6_1_6_3_10_2_1_3_0="5"))  # up for 5 s
    restarted = await cisco.cycle()
    assert restarted["Uptime"].state == State.WARN and "restarted" in restarted["Uptime"].summary
    assert "counters initialised or reset" in restarted[port].summary
    assert not any(metric.name == "if_in_bytes_per_second" for metric in restarted[port].metrics)


async def test_device_states_of_real_sensors_and_a_failing_fan(lab: SnmpSim) -> None:
    cisco = Device(lab, "cisco-c3560")
    names = await cisco.discover()
    first = await cisco.cycle()
    temperature = next(name for name in names if name.startswith("Temperature "))
    # recorded as it was: 61 °C against the switch's own threshold of 66, in its WARNING state
    assert first[temperature].state == State.WARN and "61.0 °C" in first[temperature].summary
    fan = next(name for name in names if name.startswith("Fan "))
    supply = next(name for name in names if name.startswith("Power supply "))
    assert first[fan].state == State.OK and first[supply].state == State.OK
    lab.serve(cisco.name, edited(recording(cisco.name), o1_3_6_1_4_1_9_9_13_1_4_1_3_1004="6"))
    failed = await cisco.cycle()
    assert failed[fan].state == State.CRIT and "failed" in failed[fan].summary


async def test_an_entity_sensor_fan_that_stops_is_critical(lab: SnmpSim) -> None:
    arista = Device(lab, "arista-dcs-7150s-52-cl")
    text = recording(arista.name)
    names = await arista.discover()
    fan_index = next(line.split("|")[0].rsplit(".", 1)[1] for line in text.splitlines()
                     if line.startswith("1.3.6.1.2.1.99.1.1.1.1.") and line.endswith("|10"))
    lab.serve(arista.name, edited(text, **{f"o1_3_6_1_2_1_99_1_1_1_5_{fan_index}": "3"}))
    outcomes = await arista.cycle()
    fans = {name: outcomes[name] for name in names if name.startswith("Fan ")}
    assert [outcome.state for outcome in fans.values()].count(State.CRIT) == 1, fans


CORETEMP = {"name": "coretemp",  # readings of the public lm-sensors issue #486 (Raptor Lake), as hwmon files
            "temp1_label": "Package id 0", "temp1_input": "35000", "temp1_max": "80000", "temp1_crit": "100000",
            "temp2_label": "Core 0", "temp2_input": "32000", "temp3_label": "Core 4", "temp3_input": "32000"}
SUPERIO = {"name": "nct6775", "fan1_input": "1200", "fan2_input": "0", "in0_input": "1032"}


@pytest.fixture
def linux_nas(tmp_path: Path) -> Iterator[SensorHost]:
    host = sensor_host(tmp_path, [CORETEMP, SUPERIO])
    host.agent.start()
    try:
        yield host
    finally:
        host.agent.stop()


async def test_lm_sensors_from_net_snmp_give_temperatures_and_fans_and_a_stopped_fan_is_critical(
        linux_nas: SensorHost) -> None:
    nas = Device(linux_nas, "nas", community=COMMUNITY)
    names = await nas.discover()
    assert {"Temperature Package id 0", "Temperature Core 0", "Temperature Core 4", "Fan fan1", "Sensors"} <= set(
        names), names
    assert "Fan fan2" not in names  # 0 rpm at discovery: a header with no fan on it
    kept = FETCHED / "net-snmp-lm-sensors.txt"
    section = nas.output.decode()[nas.output.decode().index("<<<snmp_lm_sensors"):]
    section = section[:section.index("<<<", 3)] if "<<<" in section[3:] else section
    if os.environ.get("WATCHKEEPER_WRITE_FIXTURES"):
        kept.write_text(section)
    assert kept.read_text() == section, "set WATCHKEEPER_WRITE_FIXTURES=1 to renew"
    first = await nas.cycle()
    assert first["Temperature Package id 0"].state == State.OK, first["Temperature Package id 0"]
    assert "35.0 °C" in first["Temperature Package id 0"].summary
    assert first["Fan fan1"].state == State.OK and "1200 rpm" in first["Fan fan1"].summary
    assert "1 sensors (1 voltage)" in first["Sensors"].summary, first["Sensors"]
    linux_nas.write(1, "fan1_input", "0")
    linux_nas.write(0, "temp1_input", "75000")
    walks_to(linux_nas.port, COMMUNITY, "1.3.6.1.4.1.2021.13.16.3.1.3", ["0", "0"])  # past the agent's sensor cache
    broken = await nas.cycle()
    assert broken["Fan fan1"].state == State.CRIT and "stopped (0 rpm)" in broken["Fan fan1"].summary
    hot = broken["Temperature Package id 0"]
    assert hot.state == State.CRIT and "75.0 °C" in hot.summary, hot


async def test_a_ups_on_battery_warns_and_its_runtime_running_out_is_critical(lab: SnmpSim) -> None:
    eaton = Device(lab, "eaton-93e-80")
    assert "UPS" in await eaton.discover()
    normal = await eaton.cycle()
    assert normal["UPS"].state == State.OK and "output from mains" in normal["UPS"].summary
    lab.serve(eaton.name, edited(recording(eaton.name), o1_3_6_1_2_1_33_1_4_1_0="5", o1_3_6_1_2_1_33_1_2_2_0="300",
                                 o1_3_6_1_2_1_33_1_2_3_0="8", o1_3_6_1_2_1_33_1_2_4_0="40"))
    battery = await eaton.cycle()
    assert battery["UPS"].state == State.CRIT
    assert "on battery for 5 minutes" in battery["UPS"].summary and "runtime left" in battery["UPS"].summary


async def test_a_ups_that_reports_no_runtime_on_mains_is_not_critical(lab: SnmpSim) -> None:
    phoenixtec = Device(lab, "phoenixtec-power")
    assert "UPS" in await phoenixtec.discover()
    outcome = (await phoenixtec.cycle())["UPS"]
    assert outcome.state == State.OK and "runtime" not in outcome.summary, outcome


async def test_a_nas_gets_filesystems_with_forecasts_and_cpu(lab: SnmpSim) -> None:
    isilon = Device(lab, "isilon-onefs")
    names = await isilon.discover()
    assert "CPU utilization" in names
    filesystems = [name for name in names if name.startswith("Filesystem ")]
    assert filesystems, names
    outcomes = await isilon.cycle()
    assert all("of" in outcomes[name].summary for name in filesystems)
    assert outcomes["CPU utilization"].state in (State.OK, State.WARN, State.CRIT)


async def test_a_device_that_stops_answering_is_down_and_its_services_stale(lab: SnmpSim) -> None:
    linux = Device(lab, "linux-full-walk", timeout_s=3.0)
    names = await linux.discover()
    await linux.cycle()
    lab.agent.stop()
    with pytest.raises(AgentUnreachable, match="no answer from the SNMP agent at 127.0.0.1"):
        await linux.transport.fetch()
    gone = await linux.cycle()
    assert gone["Agent"].state == State.CRIT
    assert all(gone[name].stale and gone[name].state == State.UNKNOWN for name in names)


async def test_every_recorded_device_gives_services_and_no_unread_data(lab: SnmpSim) -> None:
    for name in DEVICES:
        device = Device(lab, name)
        assert await device.discover(), name
        agent = (await device.cycle())["Agent"]
        assert agent.state == State.OK, (name, agent)


async def test_the_kept_fetches_are_what_the_transport_writes_today(lab: SnmpSim) -> None:
    for name in DEVICES:
        output = (await Device(lab, name).transport.fetch()).data
        if os.environ.get("WATCHKEEPER_WRITE_FIXTURES"):
            (FETCHED / f"{name}.txt").write_bytes(output)
        assert (FETCHED / f"{name}.txt").read_bytes() == output, f"{name}: set WATCHKEEPER_WRITE_FIXTURES=1 to renew"
