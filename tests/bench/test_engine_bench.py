"""The engine benchmark keeps working: a tiny run prints the figures docs/benchmarks.md quotes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, missing
from tests.labs.ceph import unavailable as ceph_unavailable


@pytest.mark.slow
def test_engine_benchmark_runs_and_prints_its_figures() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "engine.py"), "--hosts", "5", "--interval", "1",
                           "--seconds", "1", "--rounds", "1"], check=True, capture_output=True, text=True,
                          timeout=120)
    figures = json.loads(done.stdout)
    assert figures["capacity"]["services"] == 5 * figures["services_per_host"]
    assert figures["scheduled"]["start_delay_p95_seconds"] is not None
    assert figures["peak_rss_bytes"] > 0
    assert figures["scheduled"]["loop_lag_max_ms"] >= 0 and figures["database_bytes_per_metric_sample"] > 0


@pytest.mark.slow
def test_reload_benchmark_applies_changes_and_measures_the_loop() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "reload.py"), "--hosts", "20", "--services", "5",
                           "--seconds", "3", "--changes", "2"], check=True, capture_output=True, text=True,
                          timeout=120)
    figures = json.loads(done.stdout)
    assert figures["services"] == 100 and figures["change_applied_seconds"]["changes"] == 2
    assert figures["loop_lag_max_ms"] >= 0


@pytest.mark.slow
def test_metric_storage_benchmark_compares_both_formats() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "metric_storage.py"), "--series", "8", "--days", "0.3",
                           "--cpu-days", "0.1", "--batch-minutes", "10"], check=True, capture_output=True, text=True,
                          timeout=120)
    figures = json.loads(done.stdout)
    assert figures["format_2_chunks_long_run"]["samples"] == 8 * int(0.3 * 1440)
    assert figures["format_1_rows"]["bytes_per_sample"] > 0 and figures["format_2_chunks"]["bytes_per_sample"] > 0
    assert figures["format_2_chunks"]["write_cpu_seconds_per_1000_samples"] > 0


@pytest.mark.slow
def test_remote_write_benchmark_sends_to_both_receivers() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "remote_write.py"), "--series", "40", "--minutes", "2"],
                          check=True, capture_output=True, text=True, timeout=120)
    figures = json.loads(done.stdout)
    for receiver in ("victoria-metrics", "prometheus"):
        assert figures[receiver]["sent_all"] and figures[receiver]["samples"] == 80


@pytest.mark.slow
def test_snmp_benchmark_compares_with_snmpbulkwalk() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "snmp.py"), "--devices", "3"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["interfaces"] == 3 * 59
    assert figures["watchkeeper"]["cpu_seconds"] > 0 and figures["snmpbulkwalk"]["cpu_seconds"] > 0


def test_opennebula_benchmark_fetches_and_checks_a_grown_cloud() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "opennebula.py"), "--hosts", "3", "--vms", "12"],
                          check=True, capture_output=True, text=True, timeout=120)
    figures = json.loads(done.stdout)
    # 3 hosts, 12 VMs, 1 datastore, the capacity, and the Agent, OS and discovery services
    assert figures["services"] == 3 + 12 + 1 + 1 + 3 and figures["fetch"]["cpu_s"] >= 0


@pytest.mark.slow
def test_ceph_collection_benchmark_reads_the_module_and_asks_ceph() -> None:
    reason = ceph_unavailable()
    if reason is not None:
        missing(reason)
    done = subprocess.run([sys.executable, str(REPO / "bench" / "ceph_collect.py"), "--runs", "1"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert figures["mgr module"]["runs_that_read_the_module"] == 1
    assert figures["ceph CLI (4 calls)"]["runs_that_read_the_module"] == 0


@pytest.mark.slow
def test_ceph_recovery_eta_benchmark_follows_a_recovery_to_its_end() -> None:
    reason = ceph_unavailable()
    if reason is not None:
        missing(reason)
    done = subprocess.run([sys.executable, str(REPO / "bench" / "ceph_recovery_eta.py"), "--objects", "40",
                           "--sleep", "0.05"], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert figures["objects_recovered"] == 40 and figures["recovery_seconds"] >= 0
