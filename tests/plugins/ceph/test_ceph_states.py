"""Health and redundancy on ten real moments of a Ceph cluster (fixtures/states/SOURCE.md):
PG states named with counts, stuck inactive PGs, an out OSD with nowhere to backfill, mon
quorum and the mgr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from watchkeeper.checkapi import NoParams
from watchkeeper.engine.checking import collapse
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.ceph.health import RedundancyParams, check_health, check_redundancy
from watchkeeper.plugins.ceph.status import CephStatus, parse_ceph_status

STATES = Path(__file__).parent / "fixtures" / "states"


def status(moment: str, change: Any = None) -> CephStatus:
    data = json.loads((STATES / moment / "status.json").read_text())
    if change is not None:  # the real capture with one thing changed
        change(data)
    return parse_ceph_status([[json.dumps(data)]])


def health(section: CephStatus) -> Outcome:
    return collapse("Ceph health", check_health("", NoParams(), section, {}, 0.0))


def redundancy(section: CephStatus, store: dict[str, Any] | None = None, now: float = 0.0) -> Outcome:
    return collapse("Ceph redundancy", check_redundancy("", RedundancyParams(), section,
                                                        {} if store is None else store, now))


def metric(outcome: Outcome, name: str) -> float:
    return next(m.value for m in outcome.metrics if m.name == name)


def test_a_healthy_cluster_has_its_quorum_and_all_copies() -> None:
    section = status("03_healthy-with-data")
    assert health(section).state == 0 and "quorum 1 of 1 mons (a)" in health(section).summary
    assert "mgr active, 0 standby" in health(section).details
    assert redundancy(section).state == 0


def test_undersized_placement_groups_are_named_with_their_count() -> None:
    outcome = redundancy(status("05_osd2-stopped-degraded"))
    assert outcome.state == 1
    assert "33 placement groups undersized: fewer copies than the pool's size" in outcome.summary
    assert metric(outcome, "ceph_pgs_undersized") == 33
    assert "nowhere to go" not in outcome.summary  # the OSD is down but still in


def test_an_out_osd_with_nothing_backfilling_is_said_to_have_nowhere_to_go() -> None:
    outcome = redundancy(status("07_osd2-down-45s-auto-out-undersized-no-backfill-target"))
    assert "nothing is backfilling while 1 of 3 OSDs are out" in outcome.summary
    backfilling = redundancy(status("95_osd0-out-backfill"))
    assert "undersized" in backfilling.summary and "nowhere to go" not in backfilling.summary


def test_inactive_placement_groups_are_crit_only_once_stuck() -> None:
    def peering(data: dict[str, Any]) -> None:
        data["pgmap"]["pgs_by_state"] = [{"state_name": "peering", "count": 5},
                                         {"state_name": "active+clean", "count": 28}]

    section = status("03_healthy-with-data", peering)
    store: dict[str, Any] = {}
    first = redundancy(section, store, 1000.0)
    assert first.state == 0 and "5 placement groups inactive" in first.summary
    assert redundancy(section, store, 1059.0).state == 0
    stuck = redundancy(section, store, 1061.0)
    assert stuck.state == 2 and "inactive: I/O to them blocks, for 1 minute" in stuck.summary
    assert redundancy(status("03_healthy-with-data"), store, 1070.0).state == 0
    assert "pg_inactive_since" not in store  # a clean check forgets the spell


def test_a_mon_out_of_quorum_and_no_mgr_warn() -> None:
    def two_of_three(data: dict[str, Any]) -> None:
        data["monmap"]["num_mons"] = 3
        data["quorum_names"] = ["a", "b"]
        data["mgrmap"]["available"] = False

    outcome = health(status("03_healthy-with-data", two_of_three))
    assert outcome.state == 1 and "quorum 2 of 3 mons (a, b)" in outcome.summary
    assert "no mgr is active" in outcome.summary


def test_every_real_moment_is_read_without_unknowns() -> None:
    for moment in sorted(path.name for path in STATES.iterdir() if path.is_dir()):
        section = status(moment)
        assert health(section).state in (0, 1), moment
        assert redundancy(section).state in (0, 1), moment
