"""A host as configured: its name, agent address, check interval and options.

    local                     the bundled agent on this machine
    ssh://user@host[:port]    the agent over one persistent SSH connection (default port 22)
    tcp://host[:port]         an agent listening on TCP (default port 6556)
    tls://host[:port]         the same over TLS, verified against the system CAs or `ca_file`
    file:///path/to/output    a saved agent output, replayed every cycle
    snmp://device[:port]      an SNMP v2c device (default port 161), its community in the file
                              named by option `snmp_credentials`; `snmp://v2c@device` is the same
    snmp://user@device[:port] an SNMPv3 device and user (authPriv), keys in `snmp_credentials`
    piggyback                 no agent of its own: what other hosts' outputs say of it (a VM
                              as its hypervisor or OpenNebula sees it), `collect/piggyback.py`
    none                      no agent: only active checks (plugins) and passive results
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import unquote, urlsplit

from watchkeeper.errors import ConfigError

HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
DEFAULT_INTERVAL_S = 60.0
DEFAULT_TIMEOUT_S = 30.0
"""How long one fetch of an agent may take."""
DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024
"""How much of an agent's output is read; the rest is cut, and the cut reported."""
TEXT_OPTIONS = {"notes", "notes_url", "action_url", "icon_image"}
"""Shown by Livestatus clients (Thruk, NagVis) as Nagios shows them; `import nagios` keeps them."""


def check_host_name(name: str) -> str:
    if not HOST_NAME.fullmatch(name):
        raise ConfigError(f"host name {name!r} is not valid: use letters, digits, '.', '-' and '_' "
                          "(a DNS name or a short alias), starting with a letter or digit")
    return name


@dataclass(frozen=True, slots=True)
class HostOptions:
    """A host's options, typed and checked once (they are stored and sent as a JSON object)."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    """How long one fetch of the agent may take."""
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    agent_command: tuple[str, ...] | None = None
    """The agent's argv instead of the bundled agent (never a shell string)."""
    os: str = ""
    """`linux` or `freebsd`: which bundled agent an SSH host gets; empty: its `uname -s` decides."""
    ssh_key: str = ""
    ca_file: str = ""
    snmp_credentials: str = ""
    """An SNMP device's secrets: a file with `community = ...` (v2c), or `auth = sha:...` and
    `priv = aes:...` (v3); never on the command line, never logged."""
    credentials_file: str = ""
    """A special agent's login, in a file (an OpenNebula frontend: `user:password`, like ONE_AUTH);
    never on the command line, never logged."""
    piggyback_max_age_s: float | None = None
    """How old piggyback data for this host may be (default: three of its source's intervals)."""
    max_attempts: int = 3
    retry_interval_s: float | None = None
    """How soon a soft problem is checked again (default: 30 s, or the interval if shorter)."""
    labels: dict[str, str] = field(default_factory=dict)
    sensor_map: str | dict[str, dict[str, str]] = "allnet"
    """An http(s):// sensor device: `allnet` (ALLNET's JSON list) or, for any other device,
    {"NAME": {"path": "a.0.b" or "./xml/path", "kind": "temperature", "unit": "°C"}}."""
    address: str = ""
    """The address plugins get as $HOSTADDRESS$ when the agent address does not give it."""
    alias: str = ""
    notes: str = ""
    notes_url: str = ""
    action_url: str = ""
    icon_image: str = ""

    @classmethod
    def parse(cls, host: str, options: dict[str, Any]) -> HostOptions:
        if not options:
            return DEFAULT_OPTIONS
        known = OPTION_NAMES
        unknown = options.keys() - known
        if unknown:
            raise ConfigError(f"{host}: unknown host option(s) {', '.join(sorted(unknown))}; "
                              f"known: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        for key, value in options.items():
            values[key] = _option(host, key, value)
        return cls(**values)


OPTION_NAMES = frozenset(f.name for f in fields(HostOptions))
"""(Computed once: `dataclasses.fields` on every host read was a tenth of reading 10,000 hosts.)"""
DEFAULT_OPTIONS = HostOptions()


def _option(host: str, key: str, value: Any) -> Any:
    problem = f"{host}: option {key}"
    if key in ("timeout_s", "retry_interval_s", "piggyback_max_age_s"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.1 <= value <= 86400:
            raise ConfigError(f"{problem} must be a number of seconds from 0.1 to 86400")
        return float(value)
    if key == "max_output_bytes":
        if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= 1 << 32:
            raise ConfigError(f"{problem} must be a whole number of bytes from 1024 to 4 GiB")
        return value
    if key == "max_attempts":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            raise ConfigError(f"{host}: max_attempts must be a whole number from 1 to 100")
        return value
    if key == "agent_command":
        if not isinstance(value, list | tuple) or not value or not all(isinstance(a, str) for a in value):
            raise ConfigError(f"{host}: agent_command must be a list of arguments, not a shell string")
        return tuple(value)
    if key == "os":
        if value not in ("", "linux", "freebsd"):
            raise ConfigError(f"{problem} must be linux or freebsd (or empty: ask the host's uname)")
        return value
    if key == "sensor_map":
        return _sensor_map(problem, value)
    if key == "labels":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{host}: labels must be a JSON object of strings, e.g. "
                              'labels=\'{"role": "storage"}\'')
        return {str(k): v for k, v in value.items()}
    if not isinstance(value, str) or len(value) > 2000 or any(ord(c) < 32 for c in value):
        raise ConfigError(f"{host}: {key} must be one line of text (at most 2000 characters)")
    return value


@dataclass(frozen=True, slots=True)
class HostConfig:
    name: str
    uri: str
    interval_s: float = DEFAULT_INTERVAL_S
    options: dict[str, Any] = field(default_factory=dict)
    """As stored and sent (JSON); read them through `opts`."""
    opts: HostOptions = field(init=False, compare=False, repr=False, default=HostOptions())

    def __post_init__(self) -> None:
        check_host_name(self.name)
        if not 1.0 <= self.interval_s <= 86400.0:
            raise ConfigError(f"{self.name}: check interval {self.interval_s:g}s is outside 1s..1 day")
        parse_uri(self.name, self.uri)
        object.__setattr__(self, "opts", HostOptions.parse(self.name, self.options))

    @property
    def retry_interval_s(self) -> float:
        """How soon a service in a soft problem state is checked again."""
        retry = self.opts.retry_interval_s
        return retry if retry is not None else min(30.0, self.interval_s)


@dataclass(frozen=True, slots=True)
class Endpoint:
    scheme: str
    address: str = ""
    port: int = 0
    user: str = ""
    path: str = ""


SENSOR_KINDS = ("temperature", "humidity", "fan", "voltage", "current", "power", "other")


def _sensor_map(problem: str, value: Any) -> str | dict[str, dict[str, str]]:
    if value == "allnet":
        return "allnet"
    example = '{"Rack inlet": {"path": "sensors.0.value", "kind": "temperature", "unit": "°C"}}'
    if not isinstance(value, dict) or not value or len(value) > 500:
        raise ConfigError(f"{problem} must be `allnet` or a JSON object of sensors, e.g. {example}")
    mapping: dict[str, dict[str, str]] = {}
    for name, entry in value.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"] or any(
                not isinstance(v, str) for v in entry.values()) or set(entry) - {"path", "kind", "unit"}:
            raise ConfigError(f"{problem}: sensor {name!r} needs a text `path` (and may have `kind`, `unit`), "
                              f"e.g. {example}")
        if entry.get("kind", "temperature") not in SENSOR_KINDS:
            raise ConfigError(f"{problem}: sensor {name!r} has kind {entry['kind']!r}; "
                              f"one of {', '.join(SENSOR_KINDS)}")
        if any(ord(c) < 32 or c == "|" for c in str(name)):
            raise ConfigError(f"{problem}: sensor name {name!r} holds a control character or `|`")
        mapping[str(name)] = dict(entry)
    return mapping


def parse_uri(name: str, uri: str) -> Endpoint:
    if uri in ("local", "none", "piggyback"):
        return Endpoint(uri)
    parts = urlsplit(uri)
    problem = f"{name}: address {uri!r}"
    if parts.scheme == "file":
        if not parts.path:
            raise ConfigError(f"{problem} names no file; write file:///absolute/path")
        return Endpoint("file", path=unquote(parts.path))
    if parts.scheme not in ("ssh", "tcp", "tls", "snmp", "http", "https", "one", "ones"):
        raise ConfigError(f"{problem} is not understood; use local, ssh://user@host:port, "
                          "tcp://host:port, tls://host:port, snmp://[user@]device[:port], "
                          "http(s)://sensor-device/path, one(s)://opennebula-frontend:2633/RPC2, "
                          "file:///path, piggyback or none")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{problem} has an invalid port") from None
    if not parts.hostname:
        raise ConfigError(f"{problem} names no host")
    if parts.scheme == "ssh":
        return Endpoint("ssh", parts.hostname, port or 22, unquote(parts.username or "") or getpass.getuser())
    if parts.scheme in ("http", "https"):
        if parts.password is not None:
            raise ConfigError(f"{problem} holds a secret; sensor devices are read without one")
        return Endpoint(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path=uri)
    if parts.scheme in ("one", "ones"):
        if parts.username is not None:
            raise ConfigError(f"{problem} holds a login; put user:password in the file named by option "
                              "credentials_file")
        path = parts.path or "/RPC2"
        url = f"{'https' if parts.scheme == 'ones' else 'http'}://{parts.netloc}{path}"
        return Endpoint(parts.scheme, parts.hostname, port or 2633, path=url)
    if parts.scheme == "snmp":
        if parts.password is not None:
            raise ConfigError(f"{problem} holds a secret; put it in the file named by option snmp_credentials")
        user = unquote(parts.username or "")
        return Endpoint("snmp", parts.hostname, port or 161, "" if user == "v2c" else user)
    return Endpoint(parts.scheme, parts.hostname, port or 6556)


def host_address(host: HostConfig) -> str:
    """What plugins get as $HOSTADDRESS$."""
    if host.opts.address:
        return host.opts.address
    endpoint = parse_uri(host.name, host.uri)
    return endpoint.address or ("127.0.0.1" if endpoint.scheme == "local" else host.name)
