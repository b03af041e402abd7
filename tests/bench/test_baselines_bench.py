"""The baselines benchmark keeps working: a tiny run learns every series, first in full, then
the hour that passed."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_baselines_benchmark_learns_every_series() -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "baselines.py"), "--series", "3", "--weeks", "1"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["baselines"] == 3 and result["judged"] == 3 and result["points_per_series"] == 2016
    assert set(result["cpu_s_per_1000_series"]) == {"first_compute_all", "hourly_compute_all", "reading_chunks",
                                                    "statistics", "reference_statistics_median"}
