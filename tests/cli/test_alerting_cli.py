"""Downtimes, acknowledgements and notification set-up from the command line, with the errors
a user gets for what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import REAL, wk
from watchkeeper.model.cycles import HostCycle, Outcome
from watchkeeper.store.database import Store


def run(home: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = wk(home, *args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_defaults_are_listed_and_a_dry_run_explains_them(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert wk(home, "host", "add", "web1", f"file://{REAL}") == 0
    code, out = run(home, capsys, "notify", "list")
    assert code == 0 and "admin <root@localhost> via mail" in out
    code, out = run(home, capsys, "notify", "test", "web1", "APT updates", "WARN")
    assert ("rule 1 (pending updates and housekeeping in the daily digest): notifies admin in the daily digest "
            "at 07:00 UTC") in out
    assert "stops here" in out and "rule 2" not in out
    code, out = run(home, capsys, "notify", "test", "web1", "Filesystem /", "CRIT", "--summary", "98% used")
    assert "rule 1 (pending updates and housekeeping in the daily digest): does not match" in out
    assert "rule 2 (problems to admin): notifies admin in one message with what else happens within 2 min" in out


def test_downtimes_are_added_listed_and_removed(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert wk(home, "host", "add", "web1", f"file://{REAL}", "--no-discover") == 0
    capsys.readouterr()
    code, out = run(home, capsys, "downtime", "add", "*", "--weekly", "sun 02:00-04:00", "--zone", "Europe/Berlin",
                    "--comment", "reboots")
    assert code == 0 and out.startswith("Downtime 1: * and its services, every sun 02:00-04:00 (Europe/Berlin)")
    assert run(home, capsys, "downtime", "add", "web1", "--duration", "2h", "--comment", "disk")[0] == 0
    code, out = run(home, capsys, "downtime", "list")
    assert "every sun 02:00-04:00 (Europe/Berlin)" in out and "web1 (host and services)" in out
    assert run(home, capsys, "downtime", "remove", "1")[0] == 0
    code, out = run(home, capsys, "downtime", "remove", "1")
    assert code == 2 and "there is no downtime 1" in out


@pytest.mark.parametrize(("args", "message"), [
    (["downtime", "add", "web1", "--comment", "x"], "needs an end or a duration"),
    (["downtime", "add", "web1", "--duration", "soon", "--comment", "x"], "duration 'soon' is not understood"),
    (["downtime", "add", "*", "--weekly", "sunday 2-4", "--comment", "x"], "time window 'sunday 2-4'"),
    (["downtime", "add", "*", "--weekly", "sun 02:00-04:00", "--zone", "Mars/Base", "--comment", "x"],
     "time zone 'Mars/Base' is not known"),
    (["notify", "rule", "add", "--contact", "nobody"], "no contact named nobody"),
    (["notify", "rule", "add", "--contact", "admin", "--service-regex", "(("], "is not a regular expression"),
    (["notify", "rule", "add", "--contact", "admin", "--state", "BROKEN"], "state 'BROKEN' is not one of"),
    (["notify", "rule", "add", "--name", "x"], "has no contacts"),
    (["notify", "contact", "add", "ops", "--channel", "pigeon"], "no channel named pigeon"),
    (["notify", "channel", "add", "hook", "webhook", "url=ftp://x"], "a webhook needs url=http(s)://"),
    (["notify", "channel", "add", "page", "script", "argv=/bin/page --now"], "argv as a JSON list"),
    (["notify", "channel", "add", "m", "email", "password=hunter2"], "give password_file=PATH"),
    (["ack", "add", "web1", "Memory", "--comment", "x"], "is OK: there is no problem to acknowledge"),
    (["ack", "add", "web1", "Nope", "--comment", "x"], "web1 has no service 'Nope'"),
    (["notify", "test", "web1", "Memory", "PURPLE"], "state 'PURPLE' is not one of"),
])
def test_what_cannot_work_is_refused_with_what_to_do(home: str, capsys: pytest.CaptureFixture[str], args: list[str],
                                                     message: str) -> None:
    assert wk(home, "host", "add", "web1", f"file://{REAL}") == 0
    capsys.readouterr()
    code, out = run(home, capsys, *args)
    assert code == 2 and message in out


def test_a_problem_is_acknowledged_and_shown_in_status(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert wk(home, "host", "add", "web1", f"file://{REAL}") == 0
    store = Store(Path(home) / "watchkeeper.db")  # as the daemon would have stored a CRIT result
    store.write_cycles([HostCycle("web1", 1.0, True, "", [Outcome("Memory", 2, "RAM used: 97%")])])
    capsys.readouterr()
    code, out = run(home, capsys, "ack", "add", "web1", "Memory", "--comment", "known leak", "--author", "ann",
                    "--expire", "4h")
    assert code == 0 and out.startswith("Acknowledged web1 Memory CRIT: RAM used: 97%; expires")
    code, out = run(home, capsys, "status", "web1")
    assert "RAM used: 97% [acknowledged by ann]" in out
    assert run(home, capsys, "ack", "remove", "web1", "Memory")[0] == 0
    code, out = run(home, capsys, "ack", "remove", "web1", "Memory")
    assert code == 2 and "is not acknowledged" in out


def test_the_rules_are_listed_in_words_not_as_records(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(home, capsys, "notify", "list")
    assert code == 0 and "{" not in out and "'" not in out
    assert "mail (email) host=localhost port=25 tls=none" in out
    assert '2 "problems to admin": hosts *, services *; WARN CRIT UNKNOWN STALE to admin; again every 24 h; ' \
        "bundled over 2 min" in out


def test_a_downtime_for_a_host_or_service_that_does_not_exist_is_refused_with_the_nearest_names(
        home: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert wk(home, "host", "add", "web1", f"file://{REAL}") == 0
    code, out = run(home, capsys, "downtime", "add", "wbe1", "--duration", "1h", "--comment", "kernel")
    assert code == 2 and "no host matches 'wbe1'; did you mean web1?" in out
    code, out = run(home, capsys, "downtime", "add", "web1", "Filesystm /", "--duration", "1h", "--comment", "x")
    assert code == 2 and "no service of web1 matches 'Filesystm /'; did you mean 'Filesystem /'?" in out
    assert Store(Path(home) / "watchkeeper.db").query("SELECT count(*) FROM downtimes")[0][0] == 0
    code, out = run(home, capsys, "downtime", "add", "web*", "Filesystem /", "--duration", "1h", "--comment", "x")
    assert code == 0 and "Downtime 1: web* Filesystem /" in out
    code, out = run(home, capsys, "downtime", "add", "web2", "--duration", "1h", "--comment", "new box", "--force")
    assert code == 0 and "Downtime 2: web2 and its services" in out
