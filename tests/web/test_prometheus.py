"""`/metrics` against Prometheus's own checker: Debian's `promtool check metrics` reads what the
endpoint serves, with the daemon's health (a latency summary) and every service metric, and
finds nothing wrong. Label values with quotes, backslashes and markup are escaped."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx

from tests.conftest import missing
from tests.web.served import seed, served
from watchkeeper.model.health import Health
from watchkeeper.store.web_tables import WebTables
from watchkeeper.web.link import NoDaemon


class RunningDaemon(NoDaemon):
    """The web server's link to a daemon that has run checks: its health figures."""

    def __init__(self, delays: tuple[float, ...]) -> None:
        self.delays = delays

    def health(self) -> Health | None:
        return Health(hosts=3, active_checks=2, cycles=120, services_checked=480, fetch_errors=1, plugins_run=40,
                      unwritten_cycles=0, start_delays=self.delays, delay_count=5000, delay_sum=12.5)


def promtool_check(text: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        missing("promtool (Debian package prometheus)")
    assert binary is not None
    return subprocess.run([binary, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)


def scrape(tmp_path: Path, delays: tuple[float, ...]) -> str:
    store = seed(tmp_path / "wk.db")
    token = WebTables(store).add_token("scraper", "read")[1]
    with served(tmp_path / "wk.db", RunningDaemon(delays)) as url, httpx.Client(base_url=url, timeout=30) as client:
        response = client.get("/metrics", params={"services": True}, headers={"Authorization": f"Bearer {token}"})
    store.close()
    assert response.status_code == 200
    return response.text


def test_promtool_finds_nothing_wrong_with_the_metrics(tmp_path: Path) -> None:
    text = scrape(tmp_path, tuple(0.001 * n for n in range(1000)))
    done = promtool_check(text)
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr
    assert "# TYPE watchkeeper_check_latency_seconds summary" in text
    assert 'watchkeeper_check_latency_seconds{quantile="0.95"} 0.95' in text
    assert "watchkeeper_check_latency_seconds_count 5000.0" in text
    assert "watchkeeper_check_latency_seconds_sum 12.5" in text


def test_before_any_check_the_quantiles_are_nan_and_still_valid(tmp_path: Path) -> None:
    text = scrape(tmp_path, ())
    assert 'watchkeeper_check_latency_seconds{quantile="0.5"} NaN' in text
    done = promtool_check(text)
    assert done.returncode == 0, done.stdout + done.stderr
