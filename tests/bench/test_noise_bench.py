"""The noise benchmark keeps working and keeps its floor on a smaller week."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_noise_benchmark_notifies_every_incident_in_time_and_little_else(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "noise.py"), "--hosts", "15", "--days", "7"],
                          check=True, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TMPDIR": str(tmp_path)})
    assert not list(tmp_path.iterdir())  # its week's store is gone with it
    figures = json.loads(done.stdout)
    assert figures["incidents"] == 11  # ten, and a stuck mail queue
    assert figures["incidents_notified_within_5_min"] == 11
    assert figures["of_which_daily_digests"] <= 7  # updates, reboots and leftovers: at most one digest a day
    assert figures["watchkeeper_notifications"] <= 0.05 * figures["naive_notifications_one_per_non_ok_result"]
    assert figures["watchkeeper_notifications"] < figures["naive_notifications_one_per_change_to_non_ok"] / 10
    fresh = figures["fresh_install"]  # the first day of a new installation: not one problem notification
    assert fresh["problem_notifications"] == 0 and set(fresh["results_by_state"]) == {"0"}
