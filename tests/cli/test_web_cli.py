"""`watchkeeper token`, `watchkeeper user`, init's first web user, and the web server inside
`watchkeeper run` as a real process."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import REAL, Daemon, wk
from tests.sshd import free_port
from watchkeeper.cli.main import main
from watchkeeper.store.database import Store
from watchkeeper.store.web_tables import WebTables


def test_init_makes_an_admin_whose_password_only_the_owner_can_read(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    home_dir = tmp_path / "h"
    assert main(["--home", str(home_dir), "init", "--no-local"]) == 0
    password_file = home_dir / "initial-password"
    assert "initial-password" in capsys.readouterr().out
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    store = Store(home_dir / "watchkeeper.db")
    assert WebTables(store).log_in("admin", password, 0.0) is not None
    assert password not in " ".join(str(v) for row in store.query("SELECT * FROM web_users") for v in row)


def test_tokens_are_shown_once_listed_without_secret_and_revoked(home: str, capsys: pytest.CaptureFixture[str]
                                                                  ) -> None:
    assert wk(home, "token", "add", "grafana", "--scope", "read") == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("wk_") and len(secret) > 40
    assert wk(home, "token", "list") == 0
    listed = capsys.readouterr().out
    assert "grafana" in listed and "read" in listed and "never used" in listed and secret not in listed
    assert wk(home, "token", "revoke", "1") == 0
    assert wk(home, "token", "revoke", "1") == 2
    assert "no active token 1" in capsys.readouterr().err


def test_a_user_password_comes_from_stdin_never_from_an_argument(home: str, capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert wk(home, "user", "add", "bob", "--password-stdin") == 2
    assert "shorter than 8" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert wk(home, "user", "add", "bob", "--scope", "read", "--password-stdin") == 0
    assert wk(home, "user", "list") == 0
    assert "bob" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--home", home, "user", "add", "bob", "--password", "inline"])


@pytest.mark.slow
def test_the_daemon_serves_the_ui_and_the_api_and_discovers_through_its_own_connection(
        home: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert wk(home, "host", "add", "web1", f"file://{REAL}", "--no-discover") == 0
    assert wk(home, "token", "add", "ops", "--scope", "write") == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    port = free_port()
    daemon = Daemon(home, listen=f"127.0.0.1:{port}")
    try:
        daemon.wait_for(f"web UI and API at http://127.0.0.1:{port}/")
        daemon.wait_for("log in as admin with the password in")
        daemon.wait_for("web1: new host, accepted")
        Store(Path(home) / "watchkeeper.db").accept_services("web1", [], remove=["Memory"])
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/login").status_code == 200
            found = client.post("/api/v1/hosts/web1/discovery", headers={"Authorization": f"Bearer {token}"})
            assert found.status_code == 200, found.text
            assert found.json()["new"] == ["Memory"] and found.json()["unchanged"] > 5
            accepted = client.post("/api/v1/hosts/web1/discovery/accept", json={"new": True},
                                   headers={"Authorization": f"Bearer {token}"})
            assert accepted.json()["accepted"] and accepted.json()["new"] == found.json()["new"]
            again = client.post("/api/v1/hosts/web1/discovery", headers={"Authorization": f"Bearer {token}"})
            assert again.json()["new"] == []
            health = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
            assert "watchkeeper_up 1.0" in health and "watchkeeper_unwritten_cycles" in health
    finally:
        daemon.process.terminate()
        assert daemon.finish() == 0
