"""The transport each host address gets: a local process, SSH, TCP or TLS, a replayed file,
or none (the address forms are parsed in `model/hosts.py`).

Option `address` is the host's address for plugins ($HOSTADDRESS$) when the agent address
does not give it, or differs from it.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from watchkeeper.collect.local import LocalTransport
from watchkeeper.collect.replay import FileTransport
from watchkeeper.collect.ssh import SshTransport
from watchkeeper.collect.tcp import TcpTransport
from watchkeeper.collect.transport import DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_S, AgentOutput, AgentTransport
from watchkeeper.errors import AgentFailed, ConfigError
from watchkeeper.model.hosts import HostConfig, parse_uri
from watchkeeper.paths import Paths


def make_transport(host: HostConfig, paths: Paths) -> AgentTransport:
    endpoint = parse_uri(host.name, host.uri)
    timeout_s = float(host.options.get("timeout_s", DEFAULT_TIMEOUT_S))
    max_bytes = int(host.options.get("max_output_bytes", DEFAULT_MAX_OUTPUT_BYTES))
    command = host.options.get("agent_command")
    if command is not None and (not isinstance(command, list) or not all(isinstance(a, str) for a in command)):
        raise ConfigError(f"{host.name}: agent_command must be a list of arguments, not a shell string")
    if endpoint.scheme == "none":
        return NoAgent(host.name)
    if endpoint.scheme == "local":
        return LocalTransport(host.name, command, timeout_s=timeout_s, max_bytes=max_bytes)
    if endpoint.scheme == "file":
        return FileTransport(host.name, Path(endpoint.path), max_bytes=max_bytes)
    if endpoint.scheme == "ssh":
        key = Path(host.options.get("ssh_key") or paths.client_key)
        return SshTransport(host.name, endpoint.address, endpoint.port, endpoint.user,
                            known_hosts=paths.known_hosts, client_key=key, command=command,
                            timeout_s=timeout_s, max_bytes=max_bytes)
    tls = ssl.create_default_context(cafile=host.options.get("ca_file")) if endpoint.scheme == "tls" else None
    return TcpTransport(host.name, endpoint.address, endpoint.port, tls=tls, timeout_s=timeout_s,
                        max_bytes=max_bytes)


class NoAgent:
    """The transport of a host without an agent: the scheduler never fetches from it."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def fetch(self) -> AgentOutput:
        raise AgentFailed(f"{self.name} has no agent (address `none`); it has only active and passive services")

    async def close(self) -> None:
        return None
