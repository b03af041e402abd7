"""A host as configured: its name, agent address, check interval and options.

    local                     the bundled agent on this machine
    ssh://user@host[:port]    the agent over one persistent SSH connection (default port 22)
    tcp://host[:port]         an agent listening on TCP (default port 6556)
    tls://host[:port]         the same over TLS, verified against the system CAs or `ca_file`
    file:///path/to/output    a saved agent output, replayed every cycle
    none                      no agent: only active checks (plugins) and passive results
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from watchkeeper.errors import ConfigError

HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
DEFAULT_INTERVAL_S = 60.0
TEXT_OPTIONS = {"notes", "notes_url", "action_url", "icon_image"}
"""Shown by Livestatus clients (Thruk, NagVis) as Nagios shows them; `import nagios` keeps them."""
KNOWN_OPTIONS = {"timeout_s", "max_output_bytes", "agent_command", "ssh_key", "ca_file", "max_attempts",
                 "retry_interval_s", "labels", "address", "alias"} | TEXT_OPTIONS


def check_host_name(name: str) -> str:
    if not HOST_NAME.fullmatch(name):
        raise ConfigError(f"host name {name!r} is not valid: use letters, digits, '.', '-' and '_' "
                          "(a DNS name or a short alias), starting with a letter or digit")
    return name


@dataclass(frozen=True, slots=True)
class HostConfig:
    name: str
    uri: str
    interval_s: float = DEFAULT_INTERVAL_S
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_host_name(self.name)
        unknown = set(self.options) - KNOWN_OPTIONS
        if unknown:
            raise ConfigError(f"{self.name}: unknown host option(s) {', '.join(sorted(unknown))}; "
                              f"known: {', '.join(sorted(KNOWN_OPTIONS))}")
        if not 1.0 <= self.interval_s <= 86400.0:
            raise ConfigError(f"{self.name}: check interval {self.interval_s:g}s is outside 1s..1 day")
        parse_uri(self.name, self.uri)
        labels = self.options.get("labels", {})
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ConfigError(f"{self.name}: labels must be a JSON object of strings, e.g. "
                              'labels=\'{"role": "storage"}\'')
        for key in TEXT_OPTIONS & set(self.options):
            value = self.options[key]
            if not isinstance(value, str) or len(value) > 2000 or any(ord(c) < 32 for c in value):
                raise ConfigError(f"{self.name}: {key} must be one line of text (at most 2000 characters)")
        attempts = self.options.get("max_attempts", 3)
        if not isinstance(attempts, int) or not 1 <= attempts <= 100:
            raise ConfigError(f"{self.name}: max_attempts must be a whole number from 1 to 100")

    @property
    def retry_interval_s(self) -> float:
        """How soon a service in a soft problem state is checked again."""
        return float(self.options.get("retry_interval_s", min(30.0, self.interval_s)))


@dataclass(frozen=True, slots=True)
class Endpoint:
    scheme: str
    address: str = ""
    port: int = 0
    user: str = ""
    path: str = ""


def parse_uri(name: str, uri: str) -> Endpoint:
    if uri in ("local", "none"):
        return Endpoint(uri)
    parts = urlsplit(uri)
    problem = f"{name}: address {uri!r}"
    if parts.scheme == "file":
        if not parts.path:
            raise ConfigError(f"{problem} names no file; write file:///absolute/path")
        return Endpoint("file", path=unquote(parts.path))
    if parts.scheme not in ("ssh", "tcp", "tls"):
        raise ConfigError(f"{problem} is not understood; use local, ssh://user@host:port, "
                          "tcp://host:port, tls://host:port, file:///path or none")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{problem} has an invalid port") from None
    if not parts.hostname:
        raise ConfigError(f"{problem} names no host")
    if parts.scheme == "ssh":
        return Endpoint("ssh", parts.hostname, port or 22, unquote(parts.username or "") or getpass.getuser())
    return Endpoint(parts.scheme, parts.hostname, port or 6556)


def host_address(host: HostConfig) -> str:
    """What plugins get as $HOSTADDRESS$."""
    if host.options.get("address"):
        return str(host.options["address"])
    endpoint = parse_uri(host.name, host.uri)
    return endpoint.address or ("127.0.0.1" if endpoint.scheme == "local" else host.name)
