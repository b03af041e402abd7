"""`watchkeeper run --remote-write URL --remote-read URL` as a real process against Debian's
VictoriaMetrics: every sample goes there, graphs come back from it, the token stays secret,
and a database that stops answering is a named error on the graph, not an empty one."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import REAL, Daemon, wk
from tests.labs.tsdb import Database, tsdb  # noqa: F401 (a fixture)
from tests.sshd import free_port
from watchkeeper.cli.main import main
from watchkeeper.store.database import Store

SECRET = "remote-write-secret-7d1f"


@pytest.mark.slow
@pytest.mark.parametrize("tsdb", ["VictoriaMetrics"], indirect=True)
def test_the_daemon_sends_every_sample_and_draws_graphs_from_the_database(
        tsdb: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    home = str(tmp_path / "home")
    assert main(["--home", home, "init", "--no-local"]) == 0
    assert wk(home, "host", "add", "web1", f"file://{REAL}", "--interval", "2") == 0
    assert wk(home, "token", "add", "ops", "--scope", "read") == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    (tmp_path / "rw-token").write_text(SECRET + "\n")
    port = free_port()
    daemon = Daemon(home, listen=f"127.0.0.1:{port}", options=[
        "--remote-write", tsdb.write_url, "--remote-read", tsdb.base_url, "--site", "lab",
        "--remote-write-token-file", str(tmp_path / "rw-token")])
    try:
        daemon.wait_for("remote write: every metric sample also goes to")
        daemon.wait_for(f"graphs read from {tsdb.base_url}")
        store = Store(Path(home) / "watchkeeper.db")
        series: set[tuple[str, str]] = set()
        deadline = time.monotonic() + 60
        while not series and time.monotonic() < deadline:  # the daemon's first cycles reach the database
            tsdb.flush()
            answer = httpx.get(tsdb.base_url + "/api/v1/series", params={"match[]": '{site="lab",host="web1"}'})
            series = {(s["service"], s["__name__"]) for s in answer.json()["data"]}
            time.sleep(0.2)  # polling another process's progress, bounded by the deadline
        local = {(service, metric) for service, metric in store.query(
            "SELECT service, metric FROM metric_series WHERE host = 'web1'")}
        assert series and series <= local
        service, metric = sorted(series)[0]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            answer = client.get(f"/api/v1/hosts/web1/metrics/{service}", params={"range": "4h"})
            assert answer.status_code == 200, answer.text
            drawn = {s["metric"]: s["points"] for s in answer.json()["series"]}
            assert drawn[metric]
            tsdb.stop()
            answer = client.get(f"/api/v1/hosts/web1/metrics/{service}", params={"range": "4h"})
            assert answer.status_code == 502 and tsdb.base_url in answer.json()["error"]
        daemon.wait_for("failed (ConnectError")  # the sender says the database stopped answering
    finally:
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.finish() == 0
    assert SECRET not in "".join(daemon.lines)
    assert store.remote_write_backlog()["samples"] > 0  # what it could not take waits in the store
