"""A real OpenSSH server on 127.0.0.1 with its own config and keys, for SSH tests."""

from __future__ import annotations

import contextlib
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
from watchkeeper.collect.ssh import SshTransport


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
    try:
        for line in server.process.stderr:
            with server.changed:
                server.lines.append(line)
                server.changed.notify_all()
    except ValueError:
        pass  # closed at teardown while a session child of sshd still held the pipe open


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    directory = tmp_path_factory.mktemp("sshd")
    # the agents these tests run over SSH keep their caches here, not in /var/lib
    with running_sshd(directory, {"WATCHKEEPER_AGENT_STATE_DIR": str(directory / "agent-state")}) as server:
        yield server


@contextlib.contextmanager
def running_sshd(directory: Path, environment: dict[str, str]) -> Iterator[SshServer]:
    """OpenSSH's sshd on 127.0.0.1 with a config of its own in `directory`; its sessions get
    `environment` (SetEnv, which overrides even PATH). Stopped on leaving, also after a failure."""
    binary = shutil.which("sshd") or "/usr/sbin/sshd"
    if not Path(binary).exists() or not shutil.which("ssh-keygen"):
        missing("OpenSSH server (Debian package openssh-server)")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "host_key")], check=True)
    client = asyncssh.generate_private_key("ssh-ed25519")
    client.write_private_key(str(directory / "client_key"))
    (directory / "authorized_keys").write_bytes(client.export_public_key())
    port = free_port()
    setenv = " ".join(f"{name}={value}" for name, value in environment.items())
    (directory / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host_key'}\nPidFile {directory / 'pid'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
        "PermitRootLogin prohibit-password\nLogLevel VERBOSE\n"
        + (f"SetEnv {setenv}\n" if setenv else ""))
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    process = subprocess.Popen([binary, "-D", "-e", "-f", str(directory / "sshd_config")],
                               stderr=subprocess.PIPE, text=True)
    host_key = (directory / "host_key.pub").read_text().split()
    server = SshServer(port, directory, f"{host_key[0]} {host_key[1]}", directory / "client_key", process)
    drain = threading.Thread(target=_drain, args=(server,), daemon=True)
    drain.start()
    try:
        try:
            server.wait_for_line("Server listening on 127.0.0.1")
        except AssertionError as exc:
            pytest.fail(f"sshd did not start: {exc}")
        yield server
    finally:
        process.terminate()
        process.wait()
        drain.join(timeout=10)  # it ends at EOF, once no session child of sshd holds the pipe
        assert process.stderr is not None
        process.stderr.close()


def transport(server: SshServer, tmp_path: Path, **kwargs: object) -> SshTransport:
    options: dict[str, object] = {
        "known_hosts": server.known_hosts(tmp_path / "known_hosts"), "client_key": server.client_key}
    options.update(kwargs)
    return SshTransport("web1", "127.0.0.1", server.port, getpass.getuser(), **options)  # type: ignore[arg-type]


