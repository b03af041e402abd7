"""The SNMP protocol path against Debian's Net-SNMP agent on loopback: v2c and v3 authPriv with
secrets from a file, wrong credentials, an agent that answers garbage, and secrets that never
reach a message or a log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.labs.snmp import COMMUNITY, V3_AUTH, V3_PRIV, V3_USER, Agent, snmpd  # noqa: F401 (fixture)
from watchkeeper.cli.main import main
from watchkeeper.collect.hosts import make_transport
from watchkeeper.collect.sections import split_sections
from watchkeeper.collect.snmp import SnmpTransport, read_credentials
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.engine.discovery import discover_in_output
from watchkeeper.errors import AgentFailed, AgentUnreachable, ConfigError
from watchkeeper.model.hosts import HostConfig, parse_uri
from watchkeeper.paths import Paths

SECTIONS = builtin_catalog().snmp_sections


def secrets_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "snmp.secret"
    path.write_text(text)
    path.chmod(mode)
    return path


def host(tmp_path: Path, uri: str, secrets: Path, **options: object) -> SnmpTransport:
    config = HostConfig("switch1", uri, options={"snmp_credentials": str(secrets), "timeout_s": 3.0, **options})
    transport = make_transport(config, Paths.resolve(str(tmp_path / "home")), SECTIONS)
    assert isinstance(transport, SnmpTransport)
    return transport


@pytest.mark.slow
async def test_v2c_and_v3_authpriv_fetch_the_same_device(snmpd: Agent, tmp_path: Path) -> None:  # noqa: F811
    v2c = host(tmp_path, f"snmp://127.0.0.1:{snmpd.port}", secrets_file(tmp_path, f"community = {COMMUNITY}\n"))
    output = await v2c.fetch()
    split = split_sections(output.data)
    assert "lo" in split.sections["snmp_interfaces"][0] and not output.truncated
    names = [spec.name for spec in discover_in_output(output.data, "switch1")]
    assert {"Uptime", "Filesystem /"} <= set(names), names
    v3 = host(tmp_path, f"snmp://{V3_USER}@127.0.0.1:{snmpd.port}",
              secrets_file(tmp_path, f"# monitoring user\nauth = sha:{V3_AUTH}\npriv = aes:{V3_PRIV}\n"))
    again = await v3.fetch()
    assert split_sections(again.data).sections.keys() == split.sections.keys()
    session = v3._session
    assert split_sections((await v3.fetch()).data).sections.keys() == split.sections.keys()
    assert v3._session is session  # kept between cycles, with its engine id and keys


@pytest.mark.slow
async def test_wrong_credentials_say_what_is_wrong_and_never_show_a_secret(
        snmpd: Agent, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG)
    wrong_community = host(tmp_path, f"snmp://127.0.0.1:{snmpd.port}", secrets_file(tmp_path, "community = guess\n"))
    with pytest.raises(AgentUnreachable, match=r"no answer from the SNMP agent at 127.0.0.1:\d+ within 3s.*"
                                               r"community \(a wrong one gets no answer at all\)") as unreachable:
        await wrong_community.fetch()
    wrong_key = host(tmp_path, f"snmp://{V3_USER}@127.0.0.1:{snmpd.port}",
                     secrets_file(tmp_path, f"auth = sha:not-the-key-0000\npriv = aes:{V3_PRIV}\n"))
    with pytest.raises(AgentFailed, match=f"refused the v3 keys of user '{V3_USER}'") as refused:
        await wrong_key.fetch()
    shown = str(unreachable.value) + str(refused.value) + caplog.text + repr(wrong_key.credentials)
    for secret in ("guess", "not-the-key-0000", V3_PRIV):
        assert secret not in shown


def test_the_credentials_file_is_checked_before_any_packet(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs option snmp_credentials"):
        read_credentials("sw", "", "")
    with pytest.raises(ConfigError, match="readable by everyone; chmod o-r"):
        read_credentials("sw", str(secrets_file(tmp_path, "community = x\n", 0o644)), "")
    with pytest.raises(ConfigError, match="line 1 is not `community = ...`"):
        read_credentials("sw", str(secrets_file(tmp_path, "public\n")), "")
    with pytest.raises(ConfigError, match="needs `priv = ALGORITHM:SECRET`"):
        read_credentials("sw", str(secrets_file(tmp_path, "auth = sha:12345678\n")), "monitor")
    with pytest.raises(ConfigError, match="needs `auth = ALGORITHM:SECRET`.*at least 8 characters"):
        read_credentials("sw", str(secrets_file(tmp_path, "auth = sha:short\npriv = aes:12345678\n")), "monitor")
    with pytest.raises(ConfigError, match="cannot read the SNMP credentials file"):
        read_credentials("sw", str(tmp_path / "missing"), "")
    v3 = read_credentials("sw", str(secrets_file(tmp_path, "auth = SHA256:12345678\npriv = AES256:abcdefgh\n")), "mon")
    assert v3.auth == ("sha256", "12345678") and v3.priv == ("aes256", "abcdefgh")
    assert "12345678" not in repr(v3)


def test_snmp_addresses_parse_and_never_carry_a_secret() -> None:
    assert parse_uri("sw", "snmp://switch.example").port == 161
    assert parse_uri("sw", "snmp://v2c@10.0.0.1:1161").user == ""
    assert parse_uri("sw", "snmp://monitor@[2001:db8::1]").user == "monitor"
    with pytest.raises(ConfigError, match="holds a secret"):
        parse_uri("sw", "snmp://public:secret@switch")


@pytest.fixture
async def garbage_agent() -> AsyncIterator[int]:
    """A UDP port that answers every datagram with bytes that are no SNMP message."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()

    def reply() -> None:
        try:
            _, sender = sock.recvfrom(65535)
        except BlockingIOError:
            return
        sock.sendto(b"\x30\x82\xff\xff" + b"\xa5" * 300, sender)

    loop.add_reader(sock.fileno(), reply)
    try:
        yield sock.getsockname()[1]
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()


async def test_an_agent_that_answers_garbage_is_a_clear_error(garbage_agent: int, tmp_path: Path) -> None:
    transport = host(tmp_path, f"snmp://127.0.0.1:{garbage_agent}", secrets_file(tmp_path, "community = x\n"))
    with pytest.raises((AgentFailed, AgentUnreachable), match="SNMP"):
        await transport.fetch()


async def test_an_unresolvable_device_name_says_so(tmp_path: Path) -> None:
    transport = host(tmp_path, "snmp://no-such-device.invalid", secrets_file(tmp_path, "community = x\n"))
    with pytest.raises(AgentUnreachable, match="cannot resolve the SNMP device 'no-such-device.invalid'"):
        await transport.fetch()


@pytest.mark.slow
def test_an_snmp_device_is_added_and_discovered_from_the_command_line(
        snmpd: Agent, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    home = str(tmp_path / "home")
    assert main(["--home", home, "init", "--no-local"]) == 0
    secrets = secrets_file(tmp_path, f"community = {COMMUNITY}\n")
    assert main(["--home", home, "host", "add", "sw1", f"snmp://127.0.0.1:{snmpd.port}",
                 "--option", f"snmp_credentials={secrets}"]) == 0
    out = capsys.readouterr().out
    assert "Added host sw1" in out and "services" in out, out
    assert main(["--home", home, "check", "--verbose", "sw1"]) in (0, 1)
    shown = capsys.readouterr().out
    assert "Uptime" in shown and "Filesystem /" in shown and COMMUNITY not in shown


class Relay(asyncio.DatagramProtocol):
    """A UDP relay in front of snmpd that loses the replies `lose(n)` picks (n counts replies from 1),
    or with `late=True` holds each of them back and sends it just before the next reply."""

    def __init__(self, upstream: int, lose: Callable[[int], bool], late: bool = False) -> None:
        self.upstream, self.lose, self.replies, self.lost = ("127.0.0.1", upstream), lose, 0, 0
        self.late, self.held = late, b""
        self.client: tuple[str, int] | None = None
        self.front: asyncio.DatagramTransport | None = None
        self.back: asyncio.DatagramTransport | None = None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if addr == self.upstream:  # a reply
            self.replies += 1
            if self.lose(self.replies):
                self.lost += 1
                if self.late:
                    self.held = data
            elif self.front is not None and self.client is not None:
                if self.held:
                    self.front.sendto(self.held, self.client)
                    self.held = b""
                self.front.sendto(data, self.client)
        elif self.back is not None:
            self.client = addr
            self.back.sendto(data, self.upstream)


@contextlib.asynccontextmanager
async def relay(upstream: int, lose: Callable[[int], bool], late: bool = False) -> AsyncIterator[tuple[int, Relay]]:
    loop = asyncio.get_running_loop()
    protocol = Relay(upstream, lose, late)
    front, _ = await loop.create_datagram_endpoint(lambda: protocol, local_addr=("127.0.0.1", 0))
    back, _ = await loop.create_datagram_endpoint(lambda: protocol, local_addr=("127.0.0.1", 0))
    protocol.front, protocol.back = front, back
    try:
        yield front.get_extra_info("sockname")[1], protocol
    finally:
        front.close()
        back.close()


@pytest.mark.slow
@pytest.mark.parametrize("late", [False, True], ids=["lost", "late"])
async def test_a_lost_or_late_reply_in_a_walk_is_asked_again_and_nothing_is_missing_or_doubled(
        snmpd: Agent, tmp_path: Path, late: bool) -> None:  # noqa: F811
    secrets = secrets_file(tmp_path, f"community = {COMMUNITY}\n")
    direct = split_sections((await host(tmp_path, f"snmp://127.0.0.1:{snmpd.port}", secrets).fetch()).data)
    async with relay(snmpd.port, lambda n: n in (5, 9, 10), late) as (port, lossy):
        output = await host(tmp_path, f"snmp://127.0.0.1:{port}", secrets).fetch()
    assert lossy.lost == 3
    split = split_sections(output.data)
    assert "FailedCollectors" not in output.data.decode()
    assert split.sections.keys() == direct.sections.keys()
    for name, rows in direct.sections.items():  # values move between fetches; which rows there are does not
        assert [row[:2] for row in split.sections[name]] == [row[:2] for row in rows], name


@pytest.mark.slow
async def test_a_device_that_falls_silent_during_a_fetch_names_the_tables_it_did_not_send(
        snmpd: Agent, tmp_path: Path) -> None:  # noqa: F811
    secrets = secrets_file(tmp_path, f"community = {COMMUNITY}\n")
    async with relay(snmpd.port, lambda n: n > 3) as (port, _):
        transport = host(tmp_path, f"snmp://127.0.0.1:{port}", secrets)
        started = asyncio.get_running_loop().time()
        output = await transport.fetch()
        took = asyncio.get_running_loop().time() - started
    header = split_sections(output.data).sections["check_mk"]
    failed = " ".join(" ".join(row) for row in header if row[0] == "FailedCollectors:")
    assert "snmp_interfaces(" in failed and "no answer" in failed, header
    assert took < transport.timeout_s + 2  # bounded by the fetch's own limit, not hung (loose: no timing claim)
