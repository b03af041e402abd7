"""The whole path in a real daemon: a check turns CRIT, the problem becomes hard, and a mail
reaches a real SMTP server on loopback."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from tests.cli.test_cli import REAL, Daemon
from tests.notify.receivers import smtp_server
from watchkeeper.cli.main import main


def test_the_daemon_mails_a_hard_problem_once(tmp_path: Path) -> None:
    home = str(tmp_path / "home")

    def wk(*args: str) -> None:
        assert main(["--home", home, *args]) == 0

    wk("init", "--no-local")
    wk("notify", "rule", "remove", "1")  # the seeded defaults mail root@localhost: not here
    wk("notify", "rule", "remove", "2")
    wk("host", "add", "web1", f"file://{REAL}", "--interval", "1", "--option", "max_attempts=2")
    wk("rule", "add", "mem", "used_percent=[1,2]")  # the sample's 4.69% RAM used is now CRIT
    arrived = threading.Event()
    with smtp_server() as (mailbox, port):
        mailbox.on_message = arrived.set
        wk("notify", "channel", "add", "mail", "email", "host=127.0.0.1", f"port={port}")
        wk("notify", "contact", "add", "ops", "--email", "ops@example.org", "--channel", "mail")
        wk("notify", "rule", "add", "--name", "fast", "--contact", "ops", "--bulk", "0", "--service", "Memory")
        daemon = Daemon(home)
        try:
            assert arrived.wait(timeout=60), "no mail arrived:\n" + "".join(daemon.lines[-20:])
            daemon.wait_for("sent 'CRIT web1 / Memory")
        finally:
            daemon.process.send_signal(signal.SIGTERM)
            assert daemon.finish() == 0
    [message] = mailbox.messages
    assert " ".join(message["Subject"].split()).startswith("CRIT web1 / Memory (was OK): RAM used: 4.69%")
    assert message["To"] == "ops@example.org"
