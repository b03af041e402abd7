"""The daemon's own set-up: what it changes in its process before it checks anything."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from pathlib import Path

import pytest

from tests.notify.receivers import free_port, smtp_server
from watchkeeper import daemon
from watchkeeper.daemon import warn_about_unreachable_mail
from watchkeeper.model.notifications import Channel
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

PROGRAM = """
import logging, resource, sys
from watchkeeper.daemon import raise_open_file_limit
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
before, after = raise_open_file_limit()
print(before, after, resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard or hard == resource.RLIM_INFINITY)
"""


def test_the_soft_open_file_limit_is_raised_to_the_hard_one_and_the_log_says_so() -> None:
    # in a child process: the test runner's own limit stays as it is
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True)
    log, figures = result.stdout.strip().rsplit("\n", 1)
    before, after, at_hard = figures.split()
    assert before == "256" and int(after) > 256 and at_hard == "True"
    assert "soft limit raised from 256" in log


def test_at_start_a_mail_server_that_does_not_answer_is_a_warning_and_one_that_does_is_not(tmp_path: Path) -> None:
    store = Store(tmp_path / "watchkeeper.db")
    tables = NotifyTables(store)
    tables.seed_defaults()
    with smtp_server() as (_, port):
        tables.set_channel(Channel("mail", "email", {"host": "127.0.0.1", "port": port, "tls": "none"}))
        assert asyncio.run(warn_about_unreachable_mail(tables)) == []
        closed = free_port()  # nothing listens there
        tables.set_channel(Channel("backup", "email", {"host": "127.0.0.1", "port": closed, "tls": "none"}))
        warnings = asyncio.run(warn_about_unreachable_mail(tables))
    assert len(warnings) == 1
    assert warnings[0].startswith(f"notification channel backup: the mail server 127.0.0.1:{closed} is not "
                                  "reachable (")
    assert warnings[0].endswith("notifications wait in the spool and are retried")
    gc.collect()  # a connection either side left open is a ResourceWarning here, not in a later test


def test_a_server_that_is_no_mail_server_or_says_nothing_is_a_warning(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    tables = NotifyTables(Store(tmp_path / "watchkeeper.db"))
    monkeypatch.setattr(daemon, "MAIL_PROBE_S", 0.5)

    async def ssh(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
        await reader.read()
        writer.close()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    async def probe() -> list[str]:
        servers = [await asyncio.start_server(handler, "127.0.0.1", 0) for handler in (ssh, silent)]
        for name, server in zip(("ssh", "silent"), servers, strict=True):
            port = server.sockets[0].getsockname()[1]
            tables.set_channel(Channel(name, "email", {"host": "127.0.0.1", "port": port, "tls": "none"}))
        try:
            return await warn_about_unreachable_mail(tables)
        finally:
            for server in servers:
                server.close()
                await server.wait_closed()

    warnings = sorted(asyncio.run(probe()))
    assert len(warnings) == 2
    assert "(it answered 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3', not a mail server's 220 greeting)" in warnings[1]
    assert "(no answer within 0.5s)" in warnings[0]
