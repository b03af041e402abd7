"""Pool quotas on real `ceph df detail` output from the project's lab (fixtures/lab/SOURCE.md):
near the quota WARN, at it CRIT because Ceph blocks writes, apart from raw capacity."""

from __future__ import annotations

import json
from pathlib import Path

from watchkeeper.engine.checking import collapse
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.ceph.pools import PoolParams, check_pool
from watchkeeper.plugins.ceph.status import parse_ceph_df

LAB = Path(__file__).parent / "fixtures" / "lab"


def pool(tag: str, name: str) -> Outcome:
    section = parse_ceph_df([[json.dumps(json.loads((LAB / f"{tag}.df_detail.json").read_text()))]])
    return collapse(name, check_pool(name, PoolParams(), section, {}, 0.0))


def test_a_pool_near_its_quota_warns_with_the_count_it_is_near() -> None:
    outcome = pool("quota-near-full", "data")
    assert outcome.state == 1 and "Quota (60 of 70 objects): 85.71%" in outcome.summary
    assert "Used: 0.01%" in outcome.summary  # the raw capacity is another matter


def test_a_pool_at_its_quota_is_crit_because_writes_are_blocked() -> None:
    outcome = pool("quota-full", "data")
    assert outcome.state == 2 and "quota reached (60 of 60 objects)" in outcome.summary
    assert "POOL_FULL" in outcome.summary


def test_a_byte_quota_is_read_and_a_pool_without_quota_says_nothing_of_it() -> None:
    quiet = pool("quota-full", "quiet")
    assert quiet.state == 0 and "Quota (0 B of 10.00 MiB)" in quiet.summary
    assert "Quota" not in pool("quota-full", "device_health_metrics").summary
