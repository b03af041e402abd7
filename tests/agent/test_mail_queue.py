"""The agent's mail-queue collector against a real exim (Debian's exim4-daemon-light) with a
configuration and spool of its own: a message to a smarthost that refuses connections (a closed
port on loopback) is deferred, and the agent's summary names why."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.test_hygiene_collectors import keep, printed
from tests.conftest import missing, outcomes
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import State

CONFIG = """spool_directory = {spool}
primary_hostname = wk-lab.localdomain
exim_user = Debian-exim
exim_group = Debian-exim
never_users =
log_file_path = {spool}/log/%slog
begin routers
smarthost:
  driver = manualroute
  route_list = * 127.0.0.1::{port} byname
  transport = remote_smtp
  self = send
begin transports
remote_smtp:
  driver = smtp
begin retry
*   *   F,2h,15m
"""


def closed_port() -> int:
    import socket

    with socket.socket() as probe:  # bound, never listening: connections to it are refused
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def exim(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    binary = shutil.which("exim4") or shutil.which("exim") or ""
    if not binary:
        missing("exim (Debian package exim4-daemon-light)")
    try:
        user = pwd.getpwnam("Debian-exim")
    except KeyError:
        missing("the Debian-exim user (Debian package exim4-base)")
    if os.geteuid() != 0:
        missing("root, to run exim with a configuration of its own")
    lab = Path(tempfile.mkdtemp(prefix="watchkeeper-exim-"))  # exim's user must reach its spool:
    lab.chmod(0o755)  # not below pytest's 0700 directories
    try:
        spool = lab / "spool"
        spool.mkdir()
        os.chown(spool, user.pw_uid, user.pw_gid)
        config = lab / "exim.conf"
        config.write_text(CONFIG.format(spool=spool, port=closed_port()))
        command = [binary, "-C", str(config)]
        monkeypatch.setitem(agent.CONFIG, "mail", {"exim": command})
        yield command  # nothing keeps running: messages are queued with -odq and tried once with -qf
    finally:
        shutil.rmtree(lab, ignore_errors=True)


def test_a_message_exim_cannot_deliver_is_counted_aged_and_its_reason_named(exim: list[str]) -> None:
    sent = subprocess.run(exim + ["-odq", "-f", "monitor@wk-lab.localdomain", "root@example.org"],
                          input=b"Subject: nightly report\n\nbody\n", capture_output=True, timeout=30)
    assert sent.returncode == 0, sent.stderr
    tried = subprocess.run(exim + ["-qf"], capture_output=True, timeout=60)  # one delivery attempt, refused
    assert tried.returncode == 0, tried.stderr
    output = printed(agent.linux_mail_queue)
    keep(output, "plugins/mail/fixtures/agent/exim-one-deferred.txt")
    now = time.time()
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + output, now=now)["Mail queue"]
    assert found.state == State.OK, found
    assert found.summary.startswith("exim queue: 1 messages, 1 queued, oldest message: ")
    assert "deferred because: defer (111): Connection refused (1)" in found.summary
    stuck = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + output, now=now + 2 * 3600)["Mail queue"]
    assert stuck.state == State.WARN and "oldest message: 2 hours" in stuck.summary, stuck


def test_an_exim_that_cannot_read_its_configuration_is_unknown_not_an_empty_queue(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = shutil.which("exim4") or shutil.which("exim")
    if binary is None:
        missing("exim (Debian package exim4-daemon-light)")
    monkeypatch.setitem(agent.CONFIG, "mail", {"exim": [binary, "-C", str(tmp_path / "missing.conf")]})
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + printed(agent.linux_mail_queue))["Mail queue"]
    assert found.state == State.UNKNOWN and "cannot read the exim queue" in found.summary, found
