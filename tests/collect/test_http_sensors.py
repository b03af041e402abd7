"""Network thermometers over HTTP: a local server answering in ALLNET's documented JSON format
(the reply quoted in the RTS2 project's ALLNET driver, src/sensord/allnet.cpp) and, for any
other device, a JSON or XML document read through configured paths; devices that fail,
answer garbage, or answer hostile XML."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_after_discovery
from watchkeeper.checkapi import State
from watchkeeper.collect.hosts import make_transport
from watchkeeper.collect.http_sensors import HttpSensorTransport
from watchkeeper.engine.discovery import discover_in_output
from watchkeeper.errors import AgentFailed, AgentUnreachable, ConfigError
from watchkeeper.model.hosts import HostConfig
from watchkeeper.paths import Paths

ALLNET = ('[{"id":"1","name":"Internal","unit":"\\u00b0C","type":"1","value":"14.26","error":0},'
          '{"id":"104","name":"Port 1","unit":"\\u00b0C","type":"1","value":"11.56","error":0}]')
"""The ALL3481's `/xml/json.php?mode=all&simple` reply, as quoted in RTS2's driver."""


class Device:
    """What the fake device answers: a status and a body, changed by the test between fetches."""

    def __init__(self) -> None:
        self.status, self.body = 200, ALLNET.encode()


@pytest.fixture
def device() -> Iterator[tuple[str, Device]]:
    state = Device()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            self.send_response(state.status)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: Any) -> None:
            pass  # the test output stays readable

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def transport(tmp_path: Path, uri: str, **options: object) -> HttpSensorTransport:
    made = make_transport(HostConfig("thermo1", uri, options={"timeout_s": 3.0, **options}),
                          Paths.resolve(str(tmp_path / "home")))
    assert isinstance(made, HttpSensorTransport)
    return made


async def test_an_allnet_thermometer_is_discovered_and_a_hot_rack_is_critical(
        device: tuple[str, Device], tmp_path: Path) -> None:
    url, state = device
    thermo = transport(tmp_path, f"{url}/xml/json.php?mode=all&simple")
    try:
        first = (await thermo.fetch()).data
        assert [spec.name for spec in discover_in_output(first, "thermo1") if spec.name.startswith("Temp")] == [
            "Temperature Internal", "Temperature Port 1"]
        state.body = ALLNET.replace('"value":"11.56"', '"value":"74.5"').encode()
        hot = run_after_discovery(first, (await thermo.fetch()).data)
        assert hot["Temperature Port 1"].state == State.CRIT and "74.5 °C" in hot["Temperature Port 1"].summary
        assert hot["Temperature Internal"].state == State.OK
        state.body = ALLNET.replace('"value":"11.56","error":0', '"value":"-999","error":1').encode()
        broken = run_after_discovery(first, (await thermo.fetch()).data)
        assert broken["Temperature Port 1"].state == State.UNKNOWN
        assert "unavailable" in broken["Temperature Port 1"].summary
    finally:
        await thermo.close()


async def test_any_device_through_json_or_xml_paths(device: tuple[str, Device], tmp_path: Path) -> None:
    url, state = device
    state.body = json.dumps({"probe": {"readings": [{"t": "21,5"}, {"t": 48}]}}).encode()
    mapping = {"Room": {"path": "probe.readings.0.t"}, "Humidity": {"path": "probe.readings.1.t", "kind": "humidity",
                                                                   "unit": "%"}}
    probe = transport(tmp_path, f"{url}/status.json", sensor_map=mapping)
    try:
        data = (await probe.fetch()).data
        found = run_after_discovery(data, data)
        assert found["Temperature Room"].summary == "Temperature: 21.5 °C"
        assert "1 sensors (1 humidity)" in found["Sensors"].summary
        state.body = b"<data><sensor id='1'><value>19.0</value></sensor></data>"
        xml = transport(tmp_path, f"{url}/status.xml", sensor_map={"Cellar": {"path": "./sensor[@id='1']/value"}})
        data = (await xml.fetch()).data
        found = run_after_discovery(data, data)
        assert found["Temperature Cellar"].summary == "Temperature: 19.0 °C"
        await xml.close()
    finally:
        await probe.close()


async def test_a_device_that_fails_answers_garbage_or_hostile_xml_is_a_clear_error(
        device: tuple[str, Device], tmp_path: Path) -> None:
    url, state = device
    thermo = transport(tmp_path, f"{url}/xml/json.php?mode=all&simple")
    xml = transport(tmp_path, f"{url}/x.xml", sensor_map={"A": {"path": "./a"}})
    small = transport(tmp_path, f"{url}/big", max_output_bytes=1024)
    try:
        state.status = 404
        with pytest.raises(AgentFailed, match="answered HTTP 404; check the path"):
            await thermo.fetch()
        state.status, state.body = 200, b"<html>login</html>"
        with pytest.raises(AgentFailed, match="is not JSON"):
            await thermo.fetch()
        state.body = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;&e;</a>'
        with pytest.raises(AgentFailed, match="refused \\(entity expansion\\)"):
            await xml.fetch()
        state.body = b"[" + b'{"name": "x", "value": 1},' * 100 + b"]"
        with pytest.raises(AgentFailed, match="more than 1024 bytes"):
            await small.fetch()
        state.body = b"[" * 100_000 + b"]" * 100_000
        with pytest.raises(AgentFailed, match="is not JSON"):
            await thermo.fetch()
    finally:
        for each in (thermo, xml, small):
            await each.close()


async def test_a_device_that_is_gone_is_unreachable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    thermo = transport(tmp_path, f"http://127.0.0.1:{port}/xml/json.php")
    try:
        with pytest.raises(AgentUnreachable, match="cannot reach http://127.0.0.1:.*is the device up"):
            await thermo.fetch()
    finally:
        await thermo.close()


def test_a_sensor_map_that_cannot_work_is_refused_with_an_example() -> None:
    for bad, message in (({"Room": {}}, "needs a text `path`"), ({"Room": {"path": "a", "kind": "weather"}},
                                                               "has kind 'weather'"), ("other", "must be `allnet`")):
        with pytest.raises(ConfigError, match=message):
            HostConfig("thermo1", "http://thermo1/", options={"sensor_map": bad})
    with pytest.raises(ConfigError, match="holds a secret"):
        make_transport(HostConfig("thermo1", "http://admin:pw@thermo1/"), Paths.resolve("/tmp/unused-home"))
