"""Delivery to real receivers on loopback: an SMTP server, an HTTP webhook receiver, a script."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import dies
from tests.notify.receivers import http_receiver, self_signed, smtp_server
from watchkeeper.model.notifications import Channel, Contact, Event
from watchkeeper.model.states import CRIT, OK
from watchkeeper.notify.delivery import Delivery
from watchkeeper.notify.notifier import Notifier
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

HOSTILE = 'disk "/" 99% <script>alert(1)</script>\n$(reboot); `id`'


def spool_message(tables: NotifyTables, contact: str, channel: str, key: str = "e1", summary: str = HOSTILE,
                  host: str = "web1;rm -rf /") -> None:
    event = Event(key, host, "Filesystem /", "PROBLEM", OK, CRIT, summary, 1_790_000_000.0, 1, contact, channel)
    tables.save({}, [(event, "bulk", 0.0)])
    Notifier(tables, clock=lambda: 1_790_000_100.0).compose_due(1_790_000_100.0)


@pytest.fixture
def tables(tmp_path: Path) -> NotifyTables:
    return NotifyTables(Store(tmp_path / "watchkeeper.db"))


def deliver(tables: NotifyTables) -> int:
    return asyncio.run(Delivery(tables, clock=lambda: 1_790_000_200.0).deliver_due())


def test_mail_reaches_a_real_smtp_server_with_its_key_as_message_id(tables: NotifyTables) -> None:
    with smtp_server() as (mailbox, port):
        tables.set_channel(Channel("mail", "email", {"host": "127.0.0.1", "port": port, "sender": "wk@example.org"}))
        tables.set_contact(Contact("ops", "ops@example.org", ("mail",)))
        spool_message(tables, "ops", "mail")
        assert deliver(tables) == 1
    [message] = mailbox.messages
    assert message["To"] == "ops@example.org" and message["From"] == "wk@example.org"
    assert message["Subject"].startswith("CRIT web1;rm -rf / / Filesystem / (was OK): disk")
    assert message["Message-ID"] == "<msg-e1@watchkeeper>"
    assert "<script>alert(1)</script>" in message.get_payload()
    assert [row.status for row in tables.log()] == ["sent"]


def test_mail_over_starttls_with_a_login(tables: NotifyTables, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    password = tmp_path / "smtp.pw"
    password.write_text("s3cret\n")
    with smtp_server(tls=(cert, key), login=("wk", "s3cret")) as (mailbox, port):
        tables.set_channel(Channel("mail", "email", {"host": "127.0.0.1", "port": port, "tls": "starttls",
                                                     "ca_file": str(cert), "user": "wk",
                                                     "password_file": str(password)}))
        tables.set_contact(Contact("ops", "ops@example.org", ("mail",)))
        spool_message(tables, "ops", "mail")
        assert deliver(tables) == 1
        assert len(mailbox.messages) == 1


def test_a_wrong_password_is_a_visible_failure_that_never_shows_the_password(tables: NotifyTables,
                                                                             tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    password = tmp_path / "smtp.pw"
    password.write_text("wrong-pass-123")
    with smtp_server(tls=(cert, key), login=("wk", "s3cret")) as (mailbox, port):
        tables.set_channel(Channel("mail", "email", {"host": "127.0.0.1", "port": port, "tls": "starttls",
                                                     "ca_file": str(cert), "user": "wk",
                                                     "password_file": str(password)}))
        tables.set_contact(Contact("ops", "ops@example.org", ("mail",)))
        spool_message(tables, "ops", "mail")
        assert deliver(tables) == 0
    [row] = [r for r in tables.log() if r.status == "pending"]
    assert "refused the login of 'wk' (535)" in row.last_error
    assert "wrong-pass" not in row.last_error and row.attempts == 1
    assert row.due == 1_790_000_200.0 + 30.0  # retried with back-off
    assert mailbox.messages == []


def test_an_unreachable_mail_server_is_retried_with_growing_delays(tables: NotifyTables) -> None:
    from tests.notify.receivers import free_port

    tables.set_channel(Channel("mail", "email", {"host": "127.0.0.1", "port": free_port()}))
    tables.set_contact(Contact("ops", "ops@example.org", ("mail",)))
    spool_message(tables, "ops", "mail")
    delays = []
    now = 1_790_000_200.0
    for _ in range(4):
        clock = functools.partial(float, now)
        asyncio.run(Delivery(tables, clock=clock).deliver_due())
        [row] = [r for r in tables.log() if r.status == "pending"]
        delays.append(row.due - now)
        now = row.due
    assert delays == [30.0, 60.0, 120.0, 240.0]
    assert "is not reachable" in row.last_error


def test_a_webhook_gets_json_from_its_template_and_an_idempotency_key(tables: NotifyTables) -> None:
    with http_receiver() as (hook, url):
        template = {"text": "$subject", "attachments": [{"title": "$host", "fields": "$events"}]}
        tables.set_channel(Channel("chat", "webhook", {"url": url, "template": template}))
        tables.set_contact(Contact("ops", "", ("chat",)))
        spool_message(tables, "ops", "chat")
        assert deliver(tables) == 1
    [(headers, body)] = hook.requests
    assert headers["Idempotency-Key"] == "msg-e1"
    assert body["text"].startswith("CRIT web1;rm -rf / / Filesystem /")
    assert body["attachments"][0]["title"] == "web1;rm -rf /"
    assert body["attachments"][0]["fields"][0]["summary"] == HOSTILE  # placed as data, never spliced into JSON


def test_a_webhook_error_status_is_retried_and_the_url_is_not_logged(tables: NotifyTables) -> None:
    with http_receiver() as (hook, url):
        hook.status = 500
        tables.set_channel(Channel("chat", "webhook", {"url": url}))
        tables.set_contact(Contact("ops", "", ("chat",)))
        spool_message(tables, "ops", "chat")
        assert deliver(tables) == 0
    [row] = [r for r in tables.log() if r.status == "pending"]
    assert row.last_error == "webhook chat answered HTTP 500: receiver says no"
    assert "T0KEN" not in row.last_error


def write_script(tmp: Path, body: str) -> Path:
    script = tmp / "page.sh"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_a_script_gets_the_message_in_its_environment_and_argv_as_given(tables: NotifyTables,
                                                                      tmp_path: Path) -> None:
    out = tmp_path / "out"
    script = write_script(tmp_path, f'printf "%s\\n" "$1" "$NOTIFY_HOSTNAME" "$NOTIFY_SERVICESTATE" '
                                    f'"$NOTIFY_NOTIFICATIONTYPE" "$NOTIFY_ID" > {out}\n')
    tables.set_channel(Channel("pager", "script", {"argv": [str(script), "--urgent; touch /tmp/pwned"]}))
    tables.set_contact(Contact("ops", "", ("pager",)))
    spool_message(tables, "ops", "pager")
    assert deliver(tables) == 1
    assert out.read_text().splitlines() == ["--urgent; touch /tmp/pwned", "web1;rm -rf /", "CRIT", "PROBLEM",
                                            "msg-e1"]


def test_a_hung_script_is_killed_with_its_children_and_retried(tables: NotifyTables, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # the script and its background child say who they are: looking them up by command line would
    # also find any other `sleep 300` on the machine
    script = write_script(tmp_path, f"sleep 300 & echo $! > {pids}; echo $$ >> {pids}; sleep 300\n")
    tables.set_channel(Channel("pager", "script", {"argv": [str(script)], "timeout_s": 5}))
    tables.set_contact(Contact("ops", "", ("pager",)))
    spool_message(tables, "ops", "pager")
    assert deliver(tables) == 0
    [row] = [r for r in tables.log() if r.status == "pending"]
    assert "did not finish within 5 s and was killed" in row.last_error
    started = [int(pid) for pid in pids.read_text().split()]
    # a killed child can still be in the process table for a moment: wait for each to end (bounded)
    assert len(started) == 2 and [pid for pid in started if not dies(pid)] == []


CHILD = """
import asyncio, sys
from pathlib import Path
from watchkeeper.notify.delivery import Delivery
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables
asyncio.run(Delivery(NotifyTables(Store(Path(sys.argv[1])))).deliver_due())
"""


def test_a_crash_between_sending_and_recording_sends_once_more_with_the_same_message_id(
        tables: NotifyTables, tmp_path: Path) -> None:
    with smtp_server() as (mailbox, port):
        tables.set_channel(Channel("mail", "email", {"host": "127.0.0.1", "port": port}))
        tables.set_contact(Contact("ops", "ops@example.org", ("mail",)))
        for i in range(20):
            spool_message(tables, "ops", "mail", key=f"old{i:02d}")
        assert deliver(tables) == 20
        spool_message(tables, "ops", "mail", key="e1")
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(tables.store.path)])
        mailbox.on_message = lambda: os.kill(child.pid, signal.SIGKILL)  # the server has it; the sender dies
        assert child.wait(timeout=60) == -signal.SIGKILL
        mailbox.on_message = None
        assert [r.status for r in tables.log() if r.key == "msg-e1"] == ["sending"]
        assert deliver(tables) == 1  # after the restart: only the interrupted one, not a storm
        assert deliver(tables) == 0
    assert len(mailbox.messages) == 22
    duplicates = [m for m in mailbox.messages if m["Message-ID"] == "<msg-e1@watchkeeper>"]
    assert len(duplicates) == 2 and duplicates[0]["Subject"] == duplicates[1]["Subject"]
    assert len(mailbox.unique()) == 21  # a duplicate-dropping mail store keeps it once
    assert [r.status for r in tables.log() if r.key == "msg-e1"] == ["sent"]


def test_a_crash_before_sending_delivers_exactly_once_after_restart(tables: NotifyTables) -> None:
    with smtp_server() as (mailbox, port):
        tables.set_channel(Channel("mail", "email", {"host": "127.0.0.1", "port": port}))
        tables.set_contact(Contact("ops", "ops@example.org", ("mail",)))
        spool_message(tables, "ops", "mail")  # spooled, then the daemon died before delivering
        tables.store.close()
        again = NotifyTables(Store(tables.store.path))
        assert deliver(again) == 1
        assert deliver(again) == 0
    assert len(mailbox.messages) == 1


def test_the_notify_log_shows_failures(tables: NotifyTables, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.notify.receivers import free_port
    from watchkeeper.cli.main import main

    tables.set_channel(Channel("mail", "email", {"host": "127.0.0.1", "port": free_port()}))
    tables.set_contact(Contact("ops", "ops@example.org", ("mail",)))
    spool_message(tables, "ops", "mail")
    deliver(tables)
    assert main(["--home", str(tables.store.path.parent), "notify", "log"]) == 0
    out = capsys.readouterr().out
    assert "pending  ops via mail: CRIT web1;rm -rf /" in out and "is not reachable" in out

