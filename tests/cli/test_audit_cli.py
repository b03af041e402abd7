"""The command line's changes reach the audit log with who ran them; reading changes nothing
there, and secrets on the command line stay out of it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import agent_output
from watchkeeper.cli.main import main
from watchkeeper.paths import Paths
from watchkeeper.store.audit_tables import AuditTables, cli_actor, redacted
from watchkeeper.store.database import Store

REAL = agent_output("checkmk-1.4.0i2-debian12.txt")


def entries(home: str) -> list[tuple[str, str, str]]:
    store = Store(Paths.resolve(home).database)
    try:
        return [(e.actor, e.action, e.detail) for e in reversed(AuditTables(store).entries())]
    finally:
        store.close()


def test_each_change_is_recorded_with_the_command_line_and_reading_is_not(home: str) -> None:
    assert main(["--home", home, "host", "add", "db1", "none", "--interval", "30"]) == 0
    assert main(["--home", home, "host", "list"]) == 0
    assert main(["--home", home, "status"]) == 0
    assert main(["--home", home, "host", "edit", "db1", "--interval", "90"]) == 0
    assert main(["--home", home, "host", "remove", "db1"]) == 0
    assert main(["--home", home, "host", "remove", "db1"]) == 2  # nothing to remove: nothing changed
    recorded = entries(home)
    assert [(actor, action) for actor, action, _ in recorded] == [
        (cli_actor(), "host add"), (cli_actor(), "host edit"), (cli_actor(), "host remove")]
    assert recorded[0][2].startswith(f"--home {home} host add db1 none --interval 30 (changed: hosts")
    assert cli_actor().startswith("cli:") and len(cli_actor()) > 4


def test_ignoring_a_service_takes_it_out_of_discovery_and_out_of_monitoring(
        home: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "web1.txt"
    output.write_bytes(REAL.read_bytes())
    assert main(["--home", home, "host", "add", "web1", f"file://{output}"]) == 0
    capsys.readouterr()
    assert main(["--home", home, "discover", "web1", "--ignore", "Filesystem /"]) == 0
    said = capsys.readouterr().out
    assert ", 1 ignored" in said and "+ Filesystem /" not in said
    store = Store(Paths.resolve(home).database)
    try:
        assert store.ignored_services("web1") == ["Filesystem /"]
        assert "Filesystem /" not in {spec.name for spec in store.service_specs("web1")}
    finally:
        store.close()
    assert main(["--home", home, "discover", "web1", "--unignore", "Filesystem /"]) == 0
    assert "+ Filesystem /" in capsys.readouterr().out  # offered again, and accepted as new
    actions = [action for _, action, _ in entries(home)]
    assert actions == ["host add", "discover", "discover"]


def test_secrets_on_the_command_line_are_left_out() -> None:
    line = redacted(["notify", "channel", "add", "m", "--password", "hunter2", "smtp_password=hunter3",
                     "--api-token=abc", "--ssh-key", "/root/.ssh/id", "name with space"])
    assert "hunter2" not in line and "hunter3" not in line and "abc" not in line and "/root/.ssh/id" not in line
    assert "--password ***" in line and "smtp_password=***" in line and "'name with space'" in line


@given(st.lists(st.text(max_size=50), max_size=20), st.text(min_size=1, max_size=30))
def test_a_value_after_a_secret_option_never_shows(words: list[str], secret: str) -> None:
    line = redacted([*words, "--token", secret])
    assert line.rsplit(" ", 1)[1] == "***"


def test_tokens_and_users_are_recorded_without_their_secrets(home: str, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    capsys.readouterr()
    assert main(["--home", home, "token", "add", "ci", "--scope", "read"]) == 0
    secret = capsys.readouterr().out.strip()
    assert main(["--home", home, "token", "revoke", "1"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["--home", home, "user", "add", "bob", "--password-stdin", "--scope", "write"]) == 0
    recorded = entries(home)
    assert [(action, detail) for _, action, detail in recorded] == [
        ("token add", "ci, scope read"), ("token revoke", ""), ("user add", "scope write")]
    everything = repr(recorded)
    assert secret.startswith("wk_") and secret not in everything and secret[3:] not in everything
    assert "a long enough password" not in everything
