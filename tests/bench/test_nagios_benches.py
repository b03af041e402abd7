"""The Nagios-comparison benchmarks keep working: tiny runs print the figures docs/benchmarks.md
quotes, for both sides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, missing


@pytest.mark.slow
def test_active_benchmark_runs_nagios_and_watchkeeper_side_by_side() -> None:
    if not Path("/usr/sbin/nagios4").exists():
        missing("Nagios 4 (Debian package nagios4-core)")
    done = subprocess.run([sys.executable, str(REPO / "bench" / "active.py"), "--hosts", "4", "--services", "5",
                           "--interval", "2", "--seconds", "4"], check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    [figures] = json.loads(done.stdout)["runs"]
    for side in ("nagios4", "watchkeeper"):
        assert figures[side]["checks"] > 0, figures
        assert figures[side]["cpu_seconds_per_1000_checks"] >= 0  # a tiny run may stay under one clock tick
        assert figures[side]["background_cores_busy"] >= 0


@pytest.mark.slow
def test_many_ssh_hosts_benchmark_holds_a_connection_per_host() -> None:
    if not Path("/usr/sbin/sshd").exists():
        missing("OpenSSH server (Debian package openssh-server)")
    done = subprocess.run([sys.executable, str(REPO / "bench" / "ssh_hosts.py"), "--hosts", "6", "--servers", "2",
                           "--interval", "2", "--seconds", "5"], check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)["daemon"]
    assert figures["hosts_connected_at_once"] == 6 and figures["fetch_errors"] == 0, figures
    assert figures["cycles"] >= 6 and figures["peak_open_descriptors"] > 0


@pytest.mark.slow
def test_ssh_benchmark_compares_one_connection_with_a_login_per_check() -> None:
    if not Path("/usr/sbin/sshd").exists():
        missing("OpenSSH server (Debian package openssh-server)")
    done = subprocess.run([sys.executable, str(REPO / "bench" / "ssh.py"), "--runs", "20"], check=False,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["watchkeeper"]["logins"] == 1 and figures["check_by_ssh"]["logins"] == 20


@pytest.mark.slow
def test_web_benchmark_times_every_page_kind_over_http() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "web.py"), "--hosts", "20", "--services", "5",
                           "--days", "0.2", "--requests", "5"], check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["services"] == 100
    for kind in ("overview", "host_page", "service_page_25h", "service_page_8d", "api_all_services"):
        assert figures[kind]["requests"] >= 5 and figures[kind]["p95_ms"] > 0, figures
