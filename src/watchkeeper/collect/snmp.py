"""SNMP devices as hosts: one fetch walks the tables of every SNMP section and writes them as
agent sections (see `checkapi/snmp.py`), so the engine checks a switch as it checks a server.

One UDP session per device, kept between cycles (for v3, its engine id and keys too); tables
are walked with GETBULK, column by column (`snmp_walk.py`). A device that does not answer the
first request is unreachable (a wrong v2c community looks the same: agents do not answer it), a table that fails
is named on the `Agent` service, and the other tables still arrive.

The protocol is gufo-snmp's: its BER coding runs in Rust, which keeps thousands of interfaces a
cycle cheap on one core; everything here is asyncio, no process or thread per device.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gufo.snmp import (
    Aes128Key,
    Aes192Key,
    Aes256Key,
    DesKey,
    Md5Key,
    Sha1Key,
    Sha224Key,
    Sha256Key,
    Sha384Key,
    Sha512Key,
    SnmpAuthError,
    SnmpError,
    User,
)
from gufo.snmp.aio import SnmpSession

from watchkeeper.agent.watchkeeper_agent import VERSION
from watchkeeper.checkapi.snmp import SnmpSection, render_value
from watchkeeper.collect.snmp_walk import walk_columns
from watchkeeper.collect.transport import AgentOutput, elapsed_since
from watchkeeper.errors import AgentFailed, AgentUnreachable, ConfigError
from watchkeeper.model.hosts import DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_S

SYSTEM = ("1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.3.0")
"""sysDescr and sysUpTime, asked first in one GET: whether the device answers at all, and what it is."""
MAX_ROWS_PER_COLUMN = 200_000
"""A walk that goes on beyond this is an agent in a loop; it is cut and named."""
DEFAULT_MAX_REPETITIONS = 25
AUTH_KEYS: dict[str, Any] = {"md5": Md5Key, "sha": Sha1Key, "sha1": Sha1Key, "sha224": Sha224Key,
                             "sha256": Sha256Key, "sha384": Sha384Key, "sha512": Sha512Key}
PRIV_KEYS: dict[str, Any] = {"des": DesKey, "aes": Aes128Key, "aes128": Aes128Key, "aes192": Aes192Key,
                             "aes256": Aes256Key}


@dataclass(frozen=True, slots=True)
class SnmpCredentials:
    community: str = ""
    user: str = ""
    auth: tuple[str, str] | None = None
    priv: tuple[str, str] | None = None

    def __repr__(self) -> str:  # never the secrets, not even in a traceback's locals
        return f"SnmpCredentials(user={self.user!r})" if self.user else "SnmpCredentials(v2c)"

    def session_options(self) -> dict[str, Any]:
        if not self.user:
            return {"community": self.community}
        assert self.auth is not None and self.priv is not None
        auth = AUTH_KEYS[self.auth[0]](self.auth[1].encode())
        priv = PRIV_KEYS[self.priv[0]](self.priv[1].encode())
        return {"user": User(self.user, auth_key=auth, priv_key=priv)}


def read_credentials(host: str, path: str, user: str) -> SnmpCredentials:
    """The secrets file named by option `snmp_credentials`:

        community = public             (v2c)
        auth = sha256:passphrase       (v3; md5, sha, sha224, sha256, sha384, sha512)
        priv = aes:passphrase          (v3; des, aes (128), aes192, aes256)

    It must not be readable by everyone; its contents never reach a message or a log."""
    if not path:
        raise ConfigError(f"{host}: an SNMP host needs option snmp_credentials, the file with its "
                          + ("v3 keys (auth = sha:..., priv = aes:...)" if user else "community (community = ...)"))
    file = Path(path)
    try:
        mode = file.stat().st_mode
        text = file.read_text()
    except OSError as exc:
        raise ConfigError(f"{host}: cannot read the SNMP credentials file {path}: {exc.strerror}") from None
    if mode & stat.S_IROTH:
        raise ConfigError(f"{host}: the SNMP credentials file {path} is readable by everyone; "
                          f"chmod o-r {path} (it holds secrets)")
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        key = key.strip().lower()
        if not equals or key not in ("community", "auth", "priv"):
            raise ConfigError(f"{host}: {path} line {number} is not `community = ...`, `auth = ...` or `priv = ...`")
        values[key] = value.strip()
    if not user:
        if not values.get("community"):
            raise ConfigError(f"{host}: {path} names no community (community = ...) for SNMP v2c")
        return SnmpCredentials(community=values["community"])
    return SnmpCredentials(user=user, auth=_key(host, path, values, "auth", AUTH_KEYS),
                           priv=_key(host, path, values, "priv", PRIV_KEYS))


def _key(host: str, path: str, values: dict[str, str], kind: str, known: dict[str, Any]) -> tuple[str, str]:
    algorithm, colon, secret = values.get(kind, "").partition(":")
    algorithm = algorithm.strip().lower()
    if not colon or algorithm not in known or len(secret) < 8:
        raise ConfigError(f"{host}: {path} needs `{kind} = ALGORITHM:SECRET` for SNMPv3 authPriv, with "
                          f"ALGORITHM one of {', '.join(known)} and a secret of at least 8 characters")
    return algorithm, secret


class SnmpTransport:
    def __init__(self, name: str, address: str, port: int, credentials: SnmpCredentials,
                 sections: Iterable[SnmpSection[Any]], *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES, retries: int = 2,
                 max_repetitions: int = DEFAULT_MAX_REPETITIONS) -> None:
        self.name = name
        self.address = address
        self.port = port
        self.credentials = credentials
        self.sections = tuple(sections)
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.retries = retries
        self.max_repetitions = max_repetitions
        # Each request may take this long; a lost datagram is asked again up to `retries` times.
        self.request_timeout_s = min(5.0, max(0.5, timeout_s / (2 * (retries + 1))))
        self._session: SnmpSession | None = None
        self._session_ip = ""

    @property
    def where(self) -> str:
        return f"{self.address}:{self.port}"

    async def fetch(self) -> AgentOutput:
        start = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(self.timeout_s):
                session = await self._open()
                system = await self._retrying(session.get_many, list(SYSTEM))
        except TimeoutError:
            self._session = None  # a device that comes back may have restarted: new engine boots, new keys
            kind = (f"SNMPv3 user {self.credentials.user!r}" if self.credentials.user
                    else "the v2c community (a wrong one gets no answer at all)")
            raise AgentUnreachable(f"{self.name}: no answer from the SNMP agent at {self.where} within "
                                   f"{self.timeout_s:g}s; is the device up and is {kind} right?") from None
        except SnmpAuthError:
            self._session = None
            raise AgentFailed(f"{self.name}: the SNMP agent at {self.where} refused the v3 keys of user "
                              f"{self.credentials.user!r} (authentication failed); check snmp_credentials") from None
        except (SnmpError, OSError) as exc:
            self._session = None
            raise AgentFailed(f"{self.name}: SNMP with {self.where} failed: {exc or type(exc).__name__}") from None
        failed: list[str] = []
        parts = [_header(system, failed)]
        size = len(parts[0])
        truncated = False
        for section in self.sections:
            try:
                remaining = self.timeout_s - elapsed_since(start)
                async with asyncio.timeout(max(remaining, 0.001)):
                    text = await self._section(session, section)
            except TimeoutError:
                failed.append(f"{section.name}(no answer within the fetch's {self.timeout_s:g}s)")
                continue
            except (SnmpError, OSError, ValueError) as exc:
                failed.append(f"{section.name}({type(exc).__name__}: {exc})")
                continue
            if size + len(text) > self.max_bytes:
                truncated = True
                break
            parts.append(text)
            size += len(text)
        parts[0] = _header(system, failed)
        data = "".join(parts).encode("utf-8", "surrogateescape")
        return AgentOutput(data, truncated, self.max_bytes, elapsed_since(start))

    async def close(self) -> None:
        self._session = None

    async def _open(self) -> SnmpSession:
        ip = await self._resolve()
        if self._session is None or ip != self._session_ip:
            session = SnmpSession(ip, self.port, timeout=self.request_timeout_s, max_repetitions=self.max_repetitions,
                                  **self.credentials.session_options())
            await self._retrying(session.refresh)  # v3: finds the engine id and time; v2c: nothing
            self._session, self._session_ip = session, ip
        else:
            await self._retrying(self._session.refresh)  # v3 keeps engine time within its window
        return self._session

    async def _resolve(self) -> str:
        try:
            return str(ipaddress.ip_address(self.address))
        except ValueError:
            pass
        try:
            found = await asyncio.get_running_loop().getaddrinfo(self.address, self.port, type=socket.SOCK_DGRAM)
        except OSError as exc:
            raise AgentUnreachable(f"{self.name}: cannot resolve the SNMP device {self.address!r}: {exc}") from None
        return str(found[0][4][0])

    async def _retrying(self, call: Any, *args: Any) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return await call(*args)
            except TimeoutError:
                if attempt == self.retries:
                    raise
        raise AssertionError("unreachable")

    async def _section(self, session: SnmpSession, section: SnmpSection[Any]) -> str:
        lines = [f"<<<{section.name}:sep(9)>>>\n"]
        for number, table in enumerate(section.tables):
            rows: dict[str, list[str]] = {}
            if table.scalars:  # one GET for all of them
                got = await self._retrying(session.get_many, [f"{oid}.0" for oid in table.oids()])
                columns = [[("0", got[f"{oid}.0"])] if f"{oid}.0" in got else [] for oid in table.oids()]
            else:
                sock = session._sock  # noqa: SLF001 - the library's socket (typed in gufo.snmp._fast); see snmp_walk
                columns = await walk_columns(sock, table.oids(), max_repetitions=self.max_repetitions,
                                             request_timeout_s=self.request_timeout_s, retries=self.retries,
                                             max_rows=MAX_ROWS_PER_COLUMN)
            for column, cells in enumerate(columns):
                for index, value in cells:
                    row = rows.get(index)
                    if row is None:
                        row = rows[index] = [""] * len(table.columns)
                    row[column] = render_value(value)
            for index in sorted(rows, key=_index_key):
                lines.append(f"{number}\t{index}\t" + "\t".join(rows[index]) + "\n")
        return "".join(lines)


def _header(system: dict[str, object], failed: list[str]) -> str:
    descr = system.get("1.3.6.1.2.1.1.1.0")
    text = descr.decode("utf-8", "replace") if isinstance(descr, bytes) else render_value(descr)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")  # sysDescr spans lines on IOS
    lines = ["<<<check_mk>>>", f"Version: {VERSION}", "AgentOS: snmp", f"OSName: {render_value(first)}"]
    if failed:
        lines.append("FailedCollectors: " + ", ".join(failed))
    return "\n".join(lines) + "\n"


def _index_key(index: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdecimal() else -1 for part in index.split("."))

