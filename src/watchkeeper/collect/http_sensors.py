"""Network sensor devices read over HTTP (a special agent): a thermometer, a humidity probe, a
PDU's readings, as `Temperature NAME` and the other sensor services.

`sensor_map` says how to read the answer: `allnet` for ALLNET's JSON list (the ALL3481 family:
`/xml/json.php?mode=all&simple` answers `[{"id": "1", "name": "Internal", "unit": "\u00b0C",
"value": "14.26", "error": 0}, ...]`), or for any other device one path per sensor: a dotted
path into JSON (`sensors.0.value`; numbers index lists) or an ElementTree path into XML
(`./data/sensor[@id='1']/value`). The answer becomes a `[http]` block of the host's `sensors`
section (name, kind, value, unit, status), with a `<<<check_mk>>>` header like an agent's.

One httpx client per device, kept between cycles. Hostile answers are refused, not parsed: XML
with a DOCTYPE or entities (entity expansion), bodies over the size limit, nesting deeper than
JSON's decoder allows.
"""

from __future__ import annotations

import asyncio
import json
import math
import xml.etree.ElementTree as ElementTree
from typing import Any

import httpx

from watchkeeper.agent.watchkeeper_agent import VERSION
from watchkeeper.collect.transport import AgentOutput, elapsed_since
from watchkeeper.errors import AgentFailed, AgentUnreachable
from watchkeeper.model.hosts import DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_S

UNIT_KINDS = {"°C": "temperature", "°F": "temperature", "C": "temperature", "%": "humidity", "%RH": "humidity",
              "V": "voltage", "A": "current", "W": "power", "rpm": "fan", "RPM": "fan"}
Row = tuple[str, str, float | None, str, str]
"""(name, kind, value, unit, status)."""


class HttpSensorTransport:
    def __init__(self, name: str, url: str, sensor_map: str | dict[str, dict[str, str]], *,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
                 verify: str | bool = True) -> None:
        self.name, self.url, self.sensor_map = name, url, sensor_map
        self.timeout_s, self.max_bytes = timeout_s, max_bytes
        self._client = httpx.AsyncClient(timeout=timeout_s, verify=verify, follow_redirects=False,
                                         headers={"User-Agent": f"watchkeeper/{VERSION}"})

    async def fetch(self) -> AgentOutput:
        start = asyncio.get_running_loop().time()
        try:
            async with self._client.stream("GET", self.url) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise AgentFailed(f"{self.name}: {self.url} answered more than {self.max_bytes} bytes; "
                                          "is this the device's sensor page?")
        except httpx.TimeoutException:
            raise AgentUnreachable(f"{self.name}: no answer from {self.url} within {self.timeout_s:g}s; "
                                   "is the device up?") from None
        except httpx.HTTPError as exc:
            raise AgentUnreachable(f"{self.name}: cannot reach {self.url} ({type(exc).__name__}: {exc}); "
                                   "is the device up and the address right?") from None
        if response.status_code != 200:
            raise AgentFailed(f"{self.name}: {self.url} answered HTTP {response.status_code}; "
                              "check the path (and that the device's JSON/XML interface is enabled)")
        rows = read_sensors(self.name, bytes(body), self.sensor_map)
        lines = ["<<<check_mk>>>", f"Version: {VERSION}", "AgentOS: http-sensor", "<<<sensors:sep(0)>>>", "[http]"]
        lines.extend("\t".join((name, kind, "" if value is None else repr(value), unit, status))
                     for name, kind, value, unit, status in rows)
        return AgentOutput(("\n".join(lines) + "\n").encode(), False, self.max_bytes, elapsed_since(start))

    async def close(self) -> None:
        await self._client.aclose()


def read_sensors(host: str, body: bytes, sensor_map: str | dict[str, dict[str, str]]) -> list[Row]:
    """The sensors in a device's answer (a pure function: tested on the device's documented format)."""
    if sensor_map == "allnet":
        return _allnet(host, _json(host, body))
    assert isinstance(sensor_map, dict)
    stripped = body.lstrip()
    document: Any = _xml(host, body) if stripped.startswith(b"<") else _json(host, body)
    rows: list[Row] = []
    for name, entry in sensor_map.items():
        raw = _at(document, entry["path"])
        value = _number(raw)
        unit = entry.get("unit", "°C" if entry.get("kind", "temperature") == "temperature" else "")
        rows.append((name, entry.get("kind", "temperature"), value, unit,
                     "ok" if value is not None else "unavailable"))
    return rows


def _json(host: str, body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise AgentFailed(f"{host}: the device's answer is not JSON: {body[:80]!r}") from None


def _xml(host: str, body: bytes) -> ElementTree.Element:
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise AgentFailed(f"{host}: the device's XML declares a DOCTYPE or entities; refused (entity expansion)")
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise AgentFailed(f"{host}: the device's answer is not XML ({exc})") from None


def _at(document: Any, path: str) -> Any:
    if isinstance(document, ElementTree.Element):
        try:
            return document.findtext(path)
        except SyntaxError:
            return None
    for part in path.split("."):
        if isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        elif isinstance(document, dict) and part in document:
            document = document[part]
        else:
            return None
    return document


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = float(raw.strip().replace(",", ".") if isinstance(raw, str) else raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def _allnet(host: str, document: Any) -> list[Row]:
    if not isinstance(document, list):
        raise AgentFailed(f"{host}: ALLNET's sensor list should be a JSON array, not {type(document).__name__}")
    rows: list[Row] = []
    for entry in document:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        unit = str(entry.get("unit") or "")
        value = _number(entry.get("value"))
        failed = entry.get("error") not in (0, "0", None)
        name = " ".join(entry["name"].replace("|", "/").split()) or f"sensor {entry.get('id')}"
        rows.append((name, UNIT_KINDS.get(unit, "other"), None if failed else value, unit,
                     "unavailable" if failed or value is None else "ok"))
    return rows
