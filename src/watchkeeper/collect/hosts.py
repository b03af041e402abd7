"""The transport each host address gets: a local process, SSH, TCP or TLS, a replayed file,
or none (the address forms are parsed in `model/hosts.py`).

Option `address` is the host's address for plugins ($HOSTADDRESS$) when the agent address
does not give it, or differs from it.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from watchkeeper.checkapi.snmp import SnmpSection
from watchkeeper.collect.http_sensors import HttpSensorTransport
from watchkeeper.collect.local import LocalTransport
from watchkeeper.collect.opennebula import OpenNebulaTransport
from watchkeeper.collect.piggyback import PiggybackHub, PiggybackTransport
from watchkeeper.collect.replay import FileTransport
from watchkeeper.collect.snmp import SnmpTransport, read_credentials
from watchkeeper.collect.ssh import SshTransport
from watchkeeper.collect.tcp import TcpTransport
from watchkeeper.collect.transport import AgentOutput, AgentTransport
from watchkeeper.errors import AgentFailed
from watchkeeper.model.hosts import HostConfig, parse_uri
from watchkeeper.paths import Paths


def make_transport(host: HostConfig, paths: Paths, snmp_sections: Iterable[SnmpSection[Any]] = (),
                   piggyback: PiggybackHub | None = None) -> AgentTransport:
    """`snmp_sections`: what an SNMP host's fetch walks (the catalog's SNMP sections);
    `piggyback`: the daemon's piggyback data (elsewhere a `piggyback` host has none)."""
    endpoint = parse_uri(host.name, host.uri)
    opts = host.opts
    timeout_s, max_bytes = opts.timeout_s, opts.max_output_bytes
    command = list(opts.agent_command) if opts.agent_command is not None else None
    if endpoint.scheme == "none":
        return NoAgent(host.name)
    if endpoint.scheme == "piggyback":
        return PiggybackTransport(host, piggyback) if piggyback is not None else NoAgent(host.name, piggyback=True)
    if endpoint.scheme == "local":
        return LocalTransport(host.name, command, timeout_s=timeout_s, max_bytes=max_bytes)
    if endpoint.scheme == "file":
        return FileTransport(host.name, Path(endpoint.path), max_bytes=max_bytes)
    if endpoint.scheme == "snmp":
        credentials = read_credentials(host.name, opts.snmp_credentials, endpoint.user)
        return SnmpTransport(host.name, endpoint.address, endpoint.port, credentials, snmp_sections,
                             timeout_s=timeout_s, max_bytes=max_bytes)
    if endpoint.scheme in ("http", "https"):
        return HttpSensorTransport(host.name, endpoint.path, opts.sensor_map, timeout_s=timeout_s, max_bytes=max_bytes,
                                   verify=opts.ca_file or True)
    if endpoint.scheme in ("one", "ones"):
        return OpenNebulaTransport(host.name, endpoint.path, opts.credentials_file, timeout_s=timeout_s,
                                   max_bytes=max_bytes, verify=opts.ca_file or True)
    if endpoint.scheme == "ssh":
        key = Path(opts.ssh_key or paths.client_key)
        return SshTransport(host.name, endpoint.address, endpoint.port, endpoint.user,
                            known_hosts=paths.known_hosts, client_key=key, command=command,
                            timeout_s=timeout_s, max_bytes=max_bytes, os_name=opts.os)
    tls = ssl.create_default_context(cafile=opts.ca_file or None) if endpoint.scheme == "tls" else None
    return TcpTransport(host.name, endpoint.address, endpoint.port, tls=tls, timeout_s=timeout_s,
                        max_bytes=max_bytes)


class NoAgent:
    """The transport of a host without an agent: the scheduler never fetches from it."""

    def __init__(self, name: str, piggyback: bool = False) -> None:
        self.name = name
        self.piggyback = piggyback

    async def fetch(self) -> AgentOutput:
        if self.piggyback:
            raise AgentFailed(f"{self.name} has no agent of its own: its data comes from other hosts' output, "
                              "which only the running daemon holds (`watchkeeper run`)")
        raise AgentFailed(f"{self.name} has no agent (address `none`); it has only active and passive services")

    async def close(self) -> None:
        return None
