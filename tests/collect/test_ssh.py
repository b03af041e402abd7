"""The SSH transport against a real OpenSSH server started on 127.0.0.1 with its own config."""

from __future__ import annotations

import getpass
import subprocess
from pathlib import Path

import asyncssh
import pytest

from tests.sshd import SshServer, free_port, sshd, transport
from watchkeeper.collect.sections import split_sections
from watchkeeper.collect.ssh import SshTransport
from watchkeeper.errors import AgentAuthFailed, AgentUnreachable, HostKeyRejected

pytestmark = pytest.mark.slow
__all__ = ["sshd"]


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
    ssh.port = free_port()  # nothing listens there
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
