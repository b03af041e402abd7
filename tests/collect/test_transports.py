"""Local, TCP, TLS and file transports: limits, time-outs and errors with a reason."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gc
import shlex
import ssl
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import dies
from watchkeeper.collect.local import AGENT_PATH, LocalTransport
from watchkeeper.collect.replay import FileTransport
from watchkeeper.collect.sections import split_sections
from watchkeeper.collect.tcp import TcpTransport
from watchkeeper.errors import AgentFailed, AgentUnreachable

MiB = 1024 * 1024


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def test_local_agent_output_is_fetched() -> None:
    output = await LocalTransport("here").fetch()
    assert "mem" in split_sections(output.data).sections and not output.truncated


async def test_a_hanging_local_agent_is_killed_with_its_children_at_the_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    code = (f"import subprocess,time; p = subprocess.Popen(['sleep', '600']); "
            f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(600)")
    with pytest.raises(AgentUnreachable, match=r"no complete output within 0.5s and was killed"):
        await LocalTransport("hung", python(code), timeout_s=0.5).fetch()
    assert dies(int(pid_file.read_text()))


async def test_a_hung_agent_with_an_escaped_child_names_the_whole_command_and_kills_both(tmp_path: Path) -> None:
    pid_file = tmp_path / "escaped.pid"
    code = (f"import subprocess,time; p = subprocess.Popen(['sleep', '600'], start_new_session=True); "
            f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(600)")
    command = python(code)
    with pytest.raises(AgentUnreachable) as hung:
        await LocalTransport("hung", command, timeout_s=1.0).fetch()
    message = str(hung.value)
    assert "was killed with 1 processes it had started outside its group" in message
    assert f"Run `{shlex.join(command)}` by hand" in message  # the whole command, not its last word
    assert dies(int(pid_file.read_text()))


async def test_a_100_mb_local_output_is_cut_at_the_limit() -> None:
    code = "import sys; sys.stdout.write('<<<mem>>>\\n'); [sys.stdout.write('x' * 1048575 + '\\n') for _ in range(100)]"
    output = await LocalTransport("big", python(code), max_bytes=4 * MiB).fetch()
    assert output.truncated and len(output.data) == 4 * MiB


async def test_output_cut_while_the_reader_is_paused_ends_without_waiting_for_the_timeout() -> None:
    # The agent fills a 1 MiB pipe before we read, so the reader has buffered past its high-water mark and
    # stopped reading when the limit is hit: the process must still be reaped and its pipe closed at once.
    code = ("import fcntl, sys, time; fcntl.fcntl(1, fcntl.F_SETPIPE_SZ, 1 << 20); "
            "sys.stdout.buffer.write(b'<<<mem>>>\\n' + b'x' * 1000000); sys.stdout.flush(); time.sleep(600)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        output = await LocalTransport("paused", python(code), timeout_s=20, max_bytes=1000).fetch()
        gc.collect()
    assert output.truncated and len(output.data) == 1000


async def test_an_agent_that_fails_without_output_says_why() -> None:
    with pytest.raises(AgentFailed, match="exited with status 1: RuntimeError: broken"):
        await LocalTransport("bad", python("raise RuntimeError('broken')")).fetch()


async def test_a_missing_agent_command_says_so() -> None:
    with pytest.raises(AgentFailed, match="cannot start the agent '/nonexistent/agent'"):
        await LocalTransport("none", ["/nonexistent/agent"]).fetch()


async def test_file_replay_and_its_errors(tmp_path: Path) -> None:
    saved = tmp_path / "out.txt"
    saved.write_bytes(b"<<<uptime>>>\n1 2\n")
    assert (await FileTransport("f", saved).fetch()).data == b"<<<uptime>>>\n1 2\n"
    with pytest.raises(AgentFailed, match="cannot read the saved agent output"):
        await FileTransport("f", tmp_path / "missing").fetch()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """A TCP server on loopback; every connection is closed and awaited before the test ends."""
    handlers: set[asyncio.Task[None]] = set()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await handler(reader, writer)
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(tracked, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
        if handlers:
            await asyncio.wait(handlers)


async def test_tcp_agent_output_is_read_to_the_end() -> None:
    async def agent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"<<<uptime>>>\n5 6\n")
        await writer.drain()

    async with serving(agent) as port:
        output = await TcpTransport("t", "127.0.0.1", port).fetch()
    assert output.data == b"<<<uptime>>>\n5 6\n"


async def test_tcp_agent_that_hangs_times_out_with_a_hint() -> None:
    never = asyncio.Event()

    async def hung(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await never.wait()

    async with serving(hung) as port:
        with pytest.raises(AgentUnreachable, match="within 0.3s. Is the agent running"):
            await TcpTransport("t", "127.0.0.1", port, timeout_s=0.3).fetch()
        never.set()


async def test_tcp_100_mb_output_is_cut_at_the_limit() -> None:
    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(100):
            writer.write(b"y" * MiB)
            await writer.drain()

    async with serving(flood) as port:
        output = await TcpTransport("t", "127.0.0.1", port, max_bytes=2 * MiB).fetch()
    assert output.truncated and len(output.data) == 2 * MiB


async def test_refused_tcp_connection_names_host_and_port() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(AgentUnreachable, match=f"cannot connect to the agent at 127.0.0.1:{port}"):
        await TcpTransport("t", "127.0.0.1", port).fetch()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    yield cert_file, key_file


def start_agent(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen([sys.executable, str(AGENT_PATH), "--listen", "127.0.0.1:0", *args],
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()  # "listening on 127.0.0.1:PORT" once bound
    assert line.startswith("listening on"), line
    return proc, int(line.rsplit(":", 1)[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


async def test_agent_served_over_plain_tcp() -> None:
    proc, port = start_agent()
    try:
        output = await TcpTransport("t", "127.0.0.1", port).fetch()
    finally:
        stop(proc)
    assert "lnx_if" in split_sections(output.data).sections


async def test_agent_served_over_tls_is_verified_against_the_given_ca(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    proc, port = start_agent("--tls-cert", str(cert), "--tls-key", str(key))
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        output = await TcpTransport("t", "localhost", port, tls=trusting).fetch()
        assert "mem" in split_sections(output.data).sections
        with pytest.raises(AgentFailed, match="TLS with localhost:.* failed"):
            await TcpTransport("t", "localhost", port, tls=ssl.create_default_context()).fetch()
    finally:
        stop(proc)
