"""The inventory benchmark keeps working: a tiny run makes every domain a host, moves 1 % of
them (retire and create), and checks every VM host from its piggyback data."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO, missing
from tests.labs.libvirt import unavailable


def test_inventory_benchmark_makes_every_domain_a_host() -> None:
    reason = unavailable()
    if reason is not None:
        missing(reason)
    done = subprocess.run([sys.executable, str(REPO / "bench" / "inventory.py"), "--hypervisors", "4",
                           "--domains", "5"], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["hosts_created"] == 20 and result["vm_hosts_checked"] == 21
    assert result["churn"] == {"domains_moved": 1, "actions": ["create", "retire"]}
    assert result["figures"]["vm_cycles"]["services_per_s"] > 0
