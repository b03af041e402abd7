"""The SSH transport against a real OpenSSH server started on 127.0.0.1 with its own config."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh
import pytest

from tests.conftest import missing
from watchkeeper.collect.sections import split_sections
from watchkeeper.collect.ssh import SshTransport
from watchkeeper.errors import AgentAuthFailed, AgentUnreachable, HostKeyRejected

pytestmark = pytest.mark.slow


@dataclass
class SshServer:
    port: int
    directory: Path
    host_public_key: str
    client_key: Path
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for_line(self, text: str, timeout: float = 30.0) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: any(text in line for line in self.lines), timeout):
                raise AssertionError(f"sshd never logged {text!r}; its log:\n" + "".join(self.lines[-20:]))

    def count(self, text: str) -> int:
        with self.changed:
            return sum(text in line for line in self.lines)

    def known_hosts(self, path: Path, key: str | None = None) -> Path:
        path.write_text(f"[127.0.0.1]:{self.port} {key or self.host_public_key}\n")
        return path


def _drain(server: SshServer) -> None:
    assert server.process.stderr is not None
    for line in server.process.stderr:
        with server.changed:
            server.lines.append(line)
            server.changed.notify_all()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    binary = shutil.which("sshd") or "/usr/sbin/sshd"
    if not Path(binary).exists() or not shutil.which("ssh-keygen"):
        missing("OpenSSH server (Debian package openssh-server)")
    directory = tmp_path_factory.mktemp("sshd")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "host_key")], check=True)
    client = asyncssh.generate_private_key("ssh-ed25519")
    client.write_private_key(str(directory / "client_key"))
    (directory / "authorized_keys").write_bytes(client.export_public_key())
    port = _free_port()
    (directory / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host_key'}\nPidFile {directory / 'pid'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
        "PermitRootLogin prohibit-password\nLogLevel VERBOSE\n")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    process = subprocess.Popen([binary, "-D", "-e", "-f", str(directory / "sshd_config")],
                               stderr=subprocess.PIPE, text=True)
    host_key = (directory / "host_key.pub").read_text().split()
    server = SshServer(port, directory, f"{host_key[0]} {host_key[1]}", directory / "client_key", process)
    threading.Thread(target=_drain, args=(server,), daemon=True).start()
    try:
        server.wait_for_line("Server listening on 127.0.0.1")
    except AssertionError as exc:
        process.kill()
        pytest.fail(f"sshd did not start: {exc}")
    yield server
    process.terminate()
    process.wait()
    assert process.stderr is not None
    process.stderr.close()


def transport(server: SshServer, tmp_path: Path, **kwargs: object) -> SshTransport:
    options: dict[str, object] = {
        "known_hosts": server.known_hosts(tmp_path / "known_hosts"), "client_key": server.client_key}
    options.update(kwargs)
    return SshTransport("web1", "127.0.0.1", server.port, getpass.getuser(), **options)  # type: ignore[arg-type]


async def test_one_connection_serves_many_cycles(sshd: SshServer, tmp_path: Path) -> None:
    logins_before = sshd.count("Accepted publickey")
    ssh = transport(sshd, tmp_path)
    try:
        outputs = [await ssh.fetch() for _ in range(5)]
    finally:
        await ssh.close()
    assert all("mem" in split_sections(output.data).sections for output in outputs)  # the piped agent ran
    assert ssh.connections_opened == 1
    # A login attempt after the fetches: once sshd logged it, every earlier login is logged too.
    marker = "wk-marker-user"
    with pytest.raises(AgentAuthFailed):
        await SshTransport("marker", "127.0.0.1", sshd.port, marker, known_hosts=ssh.known_hosts,
                           client_key=sshd.client_key).fetch()
    sshd.wait_for_line(marker)
    assert sshd.count("Accepted publickey") - logins_before == 1


async def test_refused_key_names_host_user_and_key(sshd: SshServer, tmp_path: Path) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    stranger.write_private_key(str(tmp_path / "stranger"))
    ssh = transport(sshd, tmp_path, client_key=tmp_path / "stranger")
    with pytest.raises(AgentAuthFailed, match=f"web1: 127.0.0.1:{sshd.port} refused key authentication for "
                                              f"user '{getpass.getuser()}' with .*stranger"):
        await ssh.fetch()


async def test_unknown_host_key_is_refused_not_accepted(sshd: SshServer, tmp_path: Path) -> None:
    ssh = transport(sshd, tmp_path)
    ssh.known_hosts.write_text("")
    with pytest.raises(HostKeyRejected, match="host key of 127.0.0.1:.* is not known.*watchkeeper host trust web1"):
        await ssh.fetch()
    assert ssh.known_hosts.read_text() == ""


async def test_changed_host_key_is_refused_and_called_changed(sshd: SshServer, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    ssh = transport(sshd, tmp_path)
    sshd.known_hosts(ssh.known_hosts, other)
    with pytest.raises(HostKeyRejected, match="has CHANGED since it was trusted"):
        await ssh.fetch()


async def test_failed_connections_back_off_instead_of_hammering(sshd: SshServer, tmp_path: Path) -> None:
    ssh = transport(sshd, tmp_path)
    ssh.port = _free_port()  # nothing listens there
    with pytest.raises(AgentUnreachable, match="cannot connect to 127.0.0.1"):
        await ssh.fetch()
    with pytest.raises(AgentUnreachable, match=r"next connection attempt in \d+s, after 1 failures"):
        await ssh.fetch()


async def test_agent_command_arguments_never_reach_a_remote_shell_unquoted(sshd: SshServer, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = f"$(touch {marker}); touch {marker}"
    ssh = transport(sshd, tmp_path, command=["printf", "%s", hostile])
    try:
        output = await ssh.fetch()
    finally:
        await ssh.close()
    assert output.data.decode() == hostile
    assert not marker.exists()


def test_cli_trusts_the_host_key_then_checks_the_host_over_ssh(
        sshd: SshServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from watchkeeper.cli.main import main

    home = str(tmp_path / "home")
    address = f"ssh://{getpass.getuser()}@127.0.0.1:{sshd.port}"
    assert main(["--home", home, "init", "--no-local"]) == 0
    assert main(["--home", home, "host", "add", "web1", address, "--option", f"ssh_key={sshd.client_key}"]) == 0
    assert "host key of 127.0.0.1" in capsys.readouterr().err  # not trusted yet: nothing discovered
    assert main(["--home", home, "host", "trust", "web1", "--yes"]) == 0
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(sshd.directory / "host_key.pub")], check=True,
                                 capture_output=True, text=True).stdout.split()[1]
    assert fingerprint in capsys.readouterr().out
    assert main(["--home", home, "discover", "web1"]) == 0
    assert "+ Memory" in capsys.readouterr().out
    assert main(["--home", home, "check", "web1"]) in (0, 1)
    assert "RAM used" in capsys.readouterr().out
