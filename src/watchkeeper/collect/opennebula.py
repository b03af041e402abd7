"""OpenNebula's frontend read over its XML-RPC API (a special agent: nothing runs on the frontend).

    watchkeeper host add cloud one://frontend:2633/RPC2 --option credentials_file=/etc/watchkeeper/one_auth

`one://` is XML-RPC over HTTP, `ones://` over HTTPS. The credentials file holds `user:password`
on one line, as OpenNebula's own `ONE_AUTH` file does; it is read at each fetch and never
logged. Each fetch makes three calls, `one.hostpool.info`, `one.vmpool.info` (every user's VMs
in any state but DONE) and `one.datastorepool.info`, and writes what the checks read as JSON,
one object per line, in `<<<opennebula_hosts>>>`, `<<<opennebula_vms>>>` and
`<<<opennebula_datastores>>>`: the pools' XML holds templates with secrets (a Ceph key, a
password in a VM's context), which never leave this module. A call OpenNebula refuses
(authentication, authorization) fails the fetch with OpenNebula's message.

XML-RPC is written with the standard library's `xmlrpc.client` (request and answer); the
answers' XML documents are read with ElementTree, refused when they declare a DOCTYPE or
entities.
"""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ElementTree
import xmlrpc.client
from pathlib import Path
from typing import Any

import httpx

from watchkeeper.agent.watchkeeper_agent import VERSION
from watchkeeper.collect.transport import AgentOutput, elapsed_since
from watchkeeper.errors import AgentFailed, AgentUnreachable
from watchkeeper.model.hosts import DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_S

CALLS = (
    ("opennebula_hosts", "one.hostpool.info", ()),
    ("opennebula_vms", "one.vmpool.info", (-2, -1, -1, -1)),  # all users' VMs, every state but DONE
    ("opennebula_datastores", "one.datastorepool.info", ()),
)


class OpenNebulaTransport:
    def __init__(self, name: str, url: str, credentials_file: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES, verify: str | bool = True) -> None:
        self.name, self.url, self.credentials_file = name, url, credentials_file
        self.timeout_s, self.max_bytes = timeout_s, max_bytes
        self._client = httpx.AsyncClient(timeout=timeout_s, verify=verify, follow_redirects=False,
                                         headers={"User-Agent": f"watchkeeper/{VERSION}",
                                                  "Content-Type": "text/xml"})

    async def fetch(self) -> AgentOutput:
        start = asyncio.get_running_loop().time()
        session = read_session(self.name, self.credentials_file)
        lines = ["<<<check_mk>>>", f"Version: {VERSION}", "AgentOS: opennebula"]
        for section, method, arguments in CALLS:
            document = await self._call(method, session, *arguments)
            lines.append(f"<<<{section}:sep(0)>>>")
            lines.extend(json.dumps(entry, separators=(",", ":")) for entry in EXTRACT[section](self.name, document))
        return AgentOutput(("\n".join(lines) + "\n").encode(), False, self.max_bytes, elapsed_since(start))

    async def _call(self, method: str, *params: Any) -> bytes:
        request = xmlrpc.client.dumps(params, method)
        try:
            async with self._client.stream("POST", self.url, content=request.encode()) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise AgentFailed(f"{self.name}: {method} answered more than {self.max_bytes} bytes "
                                          "(raise the host's max_output_bytes for a cloud this large)")
        except httpx.TimeoutException:
            raise AgentUnreachable(f"{self.name}: no answer from {self.url} to {method} within "
                                   f"{self.timeout_s:g}s; is oned up?") from None
        except httpx.HTTPError as exc:
            raise AgentUnreachable(f"{self.name}: cannot reach {self.url} ({type(exc).__name__}: {exc}); "
                                   "is oned up and the address right?") from None
        if response.status_code != 200:
            raise AgentFailed(f"{self.name}: {self.url} answered HTTP {response.status_code} to {method}; "
                              "is this OpenNebula's XML-RPC endpoint (usually :2633/RPC2)?")
        return answer(self.name, method, bytes(body))

    async def close(self) -> None:
        await self._client.aclose()


def read_session(host: str, path: str) -> str:
    """`user:password` from the credentials file (OpenNebula's ONE_AUTH format)."""
    if not path:
        raise AgentFailed(f"{host}: an OpenNebula frontend needs option credentials_file (a file holding "
                          "user:password, like ONE_AUTH)")
    try:
        text = Path(path).read_text().strip()
    except OSError as exc:
        raise AgentFailed(f"{host}: cannot read the credentials file {path}: {exc.strerror or exc}") from None
    if ":" not in text or "\n" in text:
        raise AgentFailed(f"{host}: the credentials file {path} should hold one line user:password")
    return text


def answer(host: str, method: str, body: bytes) -> bytes:
    """The XML document in an XML-RPC answer `[true, document, ...]`; OpenNebula's message when false."""
    if _declares_entities(body):
        raise AgentFailed(f"{host}: the answer to {method} declares a DOCTYPE or entities; refused")
    try:
        (result,), _method = xmlrpc.client.loads(body)
    except (xmlrpc.client.Fault, xmlrpc.client.ResponseError, ValueError, ElementTree.ParseError) as exc:
        raise AgentFailed(f"{host}: {method} answered no XML-RPC result ({type(exc).__name__}: "
                          f"{str(exc)[:200]})") from None
    except Exception as exc:  # expat's errors are not ValueError
        raise AgentFailed(f"{host}: {method} answered no XML-RPC result ({type(exc).__name__})") from None
    if not isinstance(result, list) or len(result) < 2 or not isinstance(result[1], str):
        raise AgentFailed(f"{host}: {method} answered {str(result)[:200]!r}, not [success, document, ...]")
    if result[0] is not True:
        raise AgentFailed(f"{host}: OpenNebula refused {method}: {result[1][:300]}")
    document = result[1].encode()
    if _declares_entities(document):
        raise AgentFailed(f"{host}: the document {method} answered declares a DOCTYPE or entities; refused")
    return document


def _declares_entities(data: bytes) -> bool:
    upper = data.upper()
    return b"<!DOCTYPE" in upper or b"<!ENTITY" in upper


def _root(host: str, document: bytes) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(document)
    except ElementTree.ParseError as exc:
        raise AgentFailed(f"{host}: OpenNebula's document is not XML ({exc})") from None


def _text(element: ElementTree.Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def _number(element: ElementTree.Element, path: str) -> float | None:
    text = _text(element, path)
    try:
        value = float(text)
    except ValueError:
        return None
    return value if abs(value) < 2**63 else None


def extract_hosts(host: str, document: bytes) -> list[dict[str, Any]]:
    hosts = []
    for entry in _root(host, document).iter("HOST"):
        share = entry.find("HOST_SHARE")
        values = {key.lower(): _number(share, key) for key in (
            "MAX_MEM", "MEM_USAGE", "FREE_MEM", "USED_MEM", "MAX_CPU", "CPU_USAGE", "FREE_CPU", "USED_CPU",
            "RUNNING_VMS")} if share is not None else {}
        hosts.append({"id": _text(entry, "ID"), "name": _text(entry, "NAME"), "state": _number(entry, "STATE"),
                      "cluster": _text(entry, "CLUSTER"), "hypervisor": _text(entry, "VM_MAD"),
                      "error": _text(entry, "TEMPLATE/ERROR")[:500],
                      "last_monitored": _number(entry, "LAST_MON_TIME"), **values})
    return hosts


def extract_vms(host: str, document: bytes) -> list[dict[str, Any]]:
    vms = []
    for entry in _root(host, document).iter("VM"):
        history = entry.findall("HISTORY_RECORDS/HISTORY")
        vms.append({"id": _text(entry, "ID"), "name": _text(entry, "NAME"), "owner": _text(entry, "UNAME"),
                    "state": _number(entry, "STATE"), "lcm_state": _number(entry, "LCM_STATE"),
                    "memory_mib": _number(entry, "TEMPLATE/MEMORY"), "cpu": _number(entry, "TEMPLATE/CPU"),
                    "vcpus": _number(entry, "TEMPLATE/VCPU"), "template_id": _text(entry, "TEMPLATE/TEMPLATE_ID"),
                    "host": _text(history[-1], "HOSTNAME") if history else "",
                    "error": _text(entry, "USER_TEMPLATE/ERROR")[:500]})
    return vms


def extract_datastores(host: str, document: bytes) -> list[dict[str, Any]]:
    return [{"id": _text(entry, "ID"), "name": _text(entry, "NAME"), "type": _number(entry, "TYPE"),
             "state": _number(entry, "STATE"), "cluster": _text(entry, "CLUSTER"),
             "total_mb": _number(entry, "TOTAL_MB"), "free_mb": _number(entry, "FREE_MB"),
             "used_mb": _number(entry, "USED_MB")}
            for entry in _root(host, document).iter("DATASTORE")]


EXTRACT = {"opennebula_hosts": extract_hosts, "opennebula_vms": extract_vms,
           "opennebula_datastores": extract_datastores}
