"""Ceph checks against a real Ceph 16.2 cluster (`tests/labs/ceph.py`): healthy, an OSD stopped
(named within one check, its own service CRIT, degraded counts equal to what `ceph pg dump`
counts), an OSD restarted (recovery rate and ETA until every copy is back), an OSD marked out,
a pool quota neared and reached (POOL_NEAR_FULL, POOL_FULL), slow ops named on their OSD, a
fourth OSD added and one taken out (the backfill tracked with a rate and an ETA until every copy
has moved), the mgr's prometheus module read while all is well (the same services as from
`ceph`) and left for `ceph` at once when not, and the monitor stopped (CRIT within the agent's
time limit, also where the mgr goes on serving its last, healthy collection).

The agent runs as a real process with its configuration file naming the lab's `ceph.conf`
and keyring, the way a user would point it at a cluster.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing
from tests.labs.agent_monitor import AgentMonitor
from tests.labs.ceph import CephLab, unavailable
from watchkeeper.checkapi import CheckPlugin
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.ceph.health import ceph_health, ceph_redundancy
from watchkeeper.plugins.ceph.osds import ceph_osds
from watchkeeper.plugins.ceph.pools import ceph_pools

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

OBJECTS = 60
AGENT_TIMEOUT_S = 8
SCRAPE_INTERVAL_S = 5
"""The mgr module gathers this often here (15 s by default), so that its staleness shows sooner."""


@pytest.fixture(scope="module")
def lab() -> Iterator[CephLab]:
    reason = unavailable()
    if reason is not None:
        missing(reason)
    with CephLab.start(osds=3, extra={"mon pool quota warn threshold": "80"}) as the_lab:
        the_lab.create_pool("data")
        the_lab.write_objects("data", OBJECTS)
        yield the_lab


@pytest.fixture
def module_on(lab: CephLab) -> None:
    """The mgr's prometheus module, turned on by the first test that reads it and left on: the
    tests before run without the load of its collections."""
    if not lab.prometheus_port:
        lab.enable_prometheus(SCRAPE_INTERVAL_S)


class Monitor(AgentMonitor):
    """The agent on the lab: asking `ceph` each time, or (`prometheus`) reading the mgr's module
    while it shows all is well."""

    def __init__(self, lab: CephLab, tmp: Path, prometheus: bool = False) -> None:
        tmp.mkdir(exist_ok=True)
        self.lab = lab
        ceph: dict[str, object] = {"args": lab.client_args, "timeout_s": AGENT_TIMEOUT_S, "prometheus": prometheus,
                                   "prometheus_scrape_interval_s": SCRAPE_INTERVAL_S}
        super().__init__(tmp / "agent.json", {"ceph": ceph, "state_dir": str(tmp / "agent-state")})

    def read_from_module(self) -> dict[str, Any]:
        """Sections of the next agent run that read the mgr's module (it alternates with `ceph`
        while runs come faster than the module gathers)."""
        seen: list[dict[str, Any]] = []

        def from_module() -> bool:
            seen.append(self.run())
            return b"<<<ceph_status_metrics" in self.output

        self.lab.wait("the agent reading the mgr's prometheus module", from_module, 60)
        assert b"<<<ceph_status:" not in self.output, "the module read, and `ceph` asked as well"
        return seen[-1]


def metric(outcome: Outcome, name: str) -> float:
    return next(m.value for m in outcome.metrics if m.name == name)


def degraded_in_pg_dump(lab: CephLab) -> int:
    dump = lab.json("pg", "dump", "pgs")
    stats = dump["pg_stats"] if isinstance(dump, dict) else dump
    return sum(int(pg["stat_sum"]["num_objects_degraded"]) for pg in stats)


def test_a_healthy_cluster_is_ok_everywhere(lab: CephLab, tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path)
    health = monitor.check(ceph_health)
    assert health.state == 0, health.summary
    assert "3 of 3 OSDs up, 3 in" in health.summary
    redundancy = monitor.check(ceph_redundancy)
    assert redundancy.state == 0 and metric(redundancy, "ceph_objects_degraded") == 0
    assert monitor.check(ceph_pools, "data").state == 0
    for osd in lab.osd_ids:
        outcome = monitor.check(ceph_osds, f"osd.{osd}")
        assert outcome.state == 0 and "up and in" in outcome.summary and "used" in outcome.summary


def test_a_stopped_osd_is_named_and_its_degraded_copies_counted_as_ceph_counts_them(lab: CephLab,
                                                                                     tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path)
    victim = lab.osd_ids[-1]
    lab.stop_osd(victim)
    try:
        lab.wait("OSD_DOWN", lambda: "OSD_DOWN" in lab.json("health")["checks"], 60)
        health = monitor.check(ceph_health)  # the first check after Ceph says so
        assert health.state == 1 and "OSD_DOWN" in health.summary and "2 of 3 OSDs up" in health.summary, \
            health.summary
        down = monitor.check(ceph_osds, f"osd.{victim}")
        assert down.state == 2 and down.summary.startswith("down"), down.summary
        # every object had a copy on each of the three OSDs: one copy of each is missing, once the
        # PG stats (reported every few seconds) have caught up
        # (`ceph status`, which the check reads, can lag `pg dump` while a PG still peers: wait for both)
        lab.wait("every object counted degraded", lambda: degraded_in_pg_dump(lab) == OBJECTS
                 and lab.json("status")["pgmap"].get("degraded_objects") == OBJECTS, 60)
        redundancy = monitor.check(ceph_redundancy)
        assert redundancy.state == 1, redundancy.summary
        assert metric(redundancy, "ceph_objects_degraded") == degraded_in_pg_dump(lab) == OBJECTS, redundancy.summary
        assert f"{OBJECTS} object copies degraded" in redundancy.summary
    finally:
        lab.start_osd(victim)
        lab.wait("the OSD back and every PG clean", lambda: lab.osds_up_in() == (3, 3) and lab.pgs_clean(), 180)


def test_a_restarted_osd_is_recovered_with_a_rate_and_an_eta_until_all_copies_are_back(lab: CephLab,
                                                                                        tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path)
    victim = lab.osd_ids[-1]
    lab.stop_osd(victim)
    lab.wait("the OSD down", lambda: lab.osds_up_in()[0] == 2, 60)
    lab.write_objects("data", 80, prefix="while-down")  # copies the stopped OSD misses
    lab.start_osd(victim)
    seen: list[Outcome] = []

    def recovering() -> bool:
        seen.append(monitor.check(ceph_redundancy))
        return "recovering" in seen[-1].summary and "done in about" in seen[-1].summary

    lab.wait("a recovery rate and an ETA on Ceph redundancy", recovering, 120)
    during = seen[-1]
    assert during.state == 1 and metric(during, "ceph_recovery_eta_seconds") > 0
    assert metric(during, "ceph_recovering_objects_per_second") > 0
    lab.wait("every copy back", lambda: monitor.check(ceph_redundancy).state == 0 and lab.pgs_clean(), 300)
    after = monitor.check(ceph_redundancy)
    assert metric(after, "ceph_objects_degraded") == 0 and "all objects have their copies" in after.summary


def test_an_osd_marked_out_warns_that_it_holds_no_data(lab: CephLab, tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path)
    osd = lab.osd_ids[0]
    lab.ceph("osd", "out", str(osd))
    try:
        outcome = monitor.check(ceph_osds, f"osd.{osd}")
        assert outcome.state == 1 and "out: it holds no data" in outcome.summary
    finally:
        lab.ceph("osd", "in", str(osd))
        lab.wait("every PG clean again", lambda: lab.osds_up_in() == (3, 3) and lab.pgs_clean(), 180)


def test_a_pool_near_then_at_its_quota_warns_then_is_crit(lab: CephLab, tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path)
    objects = next(int(p["stats"]["objects"]) for p in lab.json("df")["pools"] if p["name"] == "data")
    lab.ceph("osd", "pool", "set-quota", "data", "max_objects", str(int(objects / 0.85)))
    try:
        lab.wait("POOL_NEAR_FULL", lambda: "POOL_NEAR_FULL" in lab.json("health")["checks"], 90)
        health = monitor.check(ceph_health)
        assert health.state == 1 and "POOL_NEAR_FULL" in health.summary
        near = monitor.check(ceph_pools, "data")
        assert near.state == 1 and f"Quota ({objects} of {int(objects / 0.85)} objects)" in near.summary, \
            near.summary
        lab.ceph("osd", "pool", "set-quota", "data", "max_objects", str(objects))
        lab.wait("POOL_FULL", lambda: "POOL_FULL" in lab.json("health")["checks"], 90)
        full = monitor.check(ceph_pools, "data")
        assert full.state == 2 and "Ceph blocks writes to this pool (POOL_FULL)" in full.summary
    finally:
        lab.ceph("osd", "pool", "set-quota", "data", "max_objects", "0")


def test_slow_ops_name_their_osd(lab: CephLab, tmp_path: Path) -> None:
    """Every operation counts as slow past a complaint time of a microsecond: Ceph raises SLOW_OPS
    while objects are written, naming the OSDs, and the OSD's own service says so."""
    monitor = Monitor(lab, tmp_path)
    # a pool of its own, removed at the end: the thousands of objects written until Ceph
    # complains would otherwise make every later backfill last minutes
    lab.create_pool("slow")
    lab.ceph("config", "set", "osd", "osd_op_complaint_time", "0.000001")
    writing = threading.Event()
    writing.set()

    def write() -> None:
        # Writes go on until the test has seen what it waits for (slow ops last only while
        # operations come), bounded in time, over 500 objects written again and again.
        stop_at = time.monotonic() + 400
        index = 0
        while writing.is_set() and time.monotonic() < stop_at:
            lab.ceph_rados("slow", "put", f"slow-{index % 500}", "/etc/services")
            index += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        lab.wait("SLOW_OPS", lambda: "SLOW_OPS" in lab.json("health")["checks"], 120)
        seen: dict[str, Outcome] = {}

        def named() -> bool:
            seen.clear()
            seen.update({f"osd.{osd}": monitor.check(ceph_osds, f"osd.{osd}") for osd in lab.osd_ids})
            return any("slow ops:" in outcome.summary for outcome in seen.values())

        lab.wait("an OSD's own service saying slow ops", named, 120)
        slow = [outcome for outcome in seen.values() if "slow ops:" in outcome.summary]
        assert all(outcome.state == 1 and "slow ops, oldest one blocked for" in outcome.summary
                   for outcome in slow), slow
    finally:
        writing.clear()
        writer.join()
        lab.ceph("config", "rm", "osd", "osd_op_complaint_time")
        lab.ceph("osd", "pool", "rm", "slow", "slow", "--yes-i-really-really-mean-it")
        lab.wait("SLOW_OPS cleared", lambda: "SLOW_OPS" not in lab.json("health")["checks"], 180)


def test_a_fourth_osd_and_one_taken_out_are_backfilled_and_tracked_to_the_end(lab: CephLab,
                                                                             tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path)
    added = lab.add_osd()
    lab.wait("the fourth OSD up and in", lambda: lab.osds_up_in() == (4, 4), 120)
    lab.wait("every PG clean on four OSDs", lab.pgs_clean, 300)
    assert monitor.check(ceph_osds, f"osd.{added}").state == 0
    leaving = lab.osd_ids[0]
    # a pause between recovery operations, so that the backfill lasts long enough to be watched
    lab.ceph("config", "set", "osd", "osd_recovery_sleep", "0.1")
    lab.ceph("osd", "out", str(leaving))
    seen: list[Outcome] = []
    try:
        def moving() -> bool:
            seen.append(monitor.check(ceph_redundancy))
            # Ceph's own recovery rate, not only our tracker's ETA: between two recovery operations
            # Ceph may report no rate at all for a moment (a run failed on exactly that)
            return (metric(seen[-1], "ceph_objects_misplaced") > 0 and "done in about" in seen[-1].summary
                    and metric(seen[-1], "ceph_recovering_objects_per_second") > 0)

        lab.wait("copies misplaced and moving, with an ETA", moving, 120)
        during = seen[-1]
        assert "object copies misplaced" in during.summary, during.summary
        assert metric(during, "ceph_recovering_objects_per_second") > 0
        assert monitor.check(ceph_osds, f"osd.{leaving}").state == 1  # out: its copies are moving away
        lab.wait("the backfill done", lambda: monitor.check(ceph_redundancy).state == 0 and lab.pgs_clean(), 300)
        after = monitor.check(ceph_redundancy)
        assert metric(after, "ceph_objects_misplaced") == 0 and "all objects have their copies" in after.summary
    finally:
        lab.ceph("config", "rm", "osd", "osd_recovery_sleep")
        lab.ceph("osd", "in", str(leaving))
        lab.wait("every PG clean again", lambda: lab.osds_up_in() == (4, 4) and lab.pgs_clean(), 300)


SERVICES: tuple[tuple[CheckPlugin[Any, Any], str], ...] = ((ceph_health, ""), (ceph_redundancy, ""),
                                                           (ceph_pools, "data"))


@pytest.mark.usefixtures("module_on")
def test_the_mgr_module_read_while_all_is_well_gives_the_services_ceph_gives(lab: CephLab, tmp_path: Path) -> None:
    module, cli = Monitor(lab, tmp_path / "module", prometheus=True), Monitor(lab, tmp_path / "cli")
    read, asked = module.read_from_module(), cli.run()
    services = [*SERVICES, *((ceph_osds, f"osd.{osd}") for osd in lab.osd_ids)]
    for plugin, item in services:
        by_module, by_ceph = module.check_on(read, plugin, item), cli.check_on(asked, plugin, item)
        assert by_module.state == by_ceph.state == 0, (by_module, by_ceph)
        ours, theirs = ({m.name: m.value for m in outcome.metrics} for outcome in (by_module, by_ceph))
        assert ours.keys() == theirs.keys(), (plugin.name, ours, theirs)
        for name, value in ours.items():
            # the same statistics, perhaps a report apart: BlueStore's own metadata moves a little
            assert value == pytest.approx(theirs[name], rel=0.02, abs=64 * 1024), (plugin.name, name, ours, theirs)
    health = module.check_on(read, ceph_health)
    osds = len(lab.osd_ids)
    assert f"{osds} of {osds} OSDs up, {osds} in" in health.summary and "quorum 1 of 1 mons (a)" in health.summary
    assert "read from the mgr's prometheus module" in health.details


@pytest.mark.usefixtures("module_on")
def test_with_the_mgr_module_read_a_stopped_osd_is_told_by_ceph_itself(lab: CephLab, tmp_path: Path) -> None:
    module = Monitor(lab, tmp_path, prometheus=True)
    module.read_from_module()
    victim = lab.osd_ids[-1]
    lab.stop_osd(victim)
    try:
        lab.wait("the module saying HEALTH_WARN", lambda: lab.scraped("ceph_health_status ") == 1, 60)
        sections = module.run()  # the module's view is no longer all well: `ceph` is asked at once
        assert b"<<<ceph_status:" in module.output and b"<<<ceph_status_metrics" not in module.output
        health = module.check_on(sections, ceph_health)
        assert health.state == 1 and "OSD_DOWN: 1 osds down" in health.summary, health.summary
        assert module.check_on(sections, ceph_osds, f"osd.{victim}").state == 2
    finally:
        lab.start_osd(victim)
        osds = len(lab.osd_ids)
        lab.wait("the OSD back and every PG clean", lambda: lab.osds_up_in() == (osds, osds) and lab.pgs_clean(),
                 180)


@pytest.mark.usefixtures("module_on")
def test_no_monitor_is_crit_within_the_agents_time_limit(lab: CephLab, tmp_path: Path) -> None:
    monitor, module = Monitor(lab, tmp_path / "cli"), Monitor(lab, tmp_path / "module", prometheus=True)
    module.read_from_module()
    lab.stop_mon()  # the last test: the cluster has no quorum from here on
    health = monitor.check(ceph_health)
    assert health.state == 2 and "no monitor answered" in health.summary
    assert monitor.agent_seconds < 2 * AGENT_TIMEOUT_S  # one bounded ceph call, the others skipped: no hang
    # The mgr goes on serving its last collection, HEALTH_OK and quorum included; only its count
    # of collections stops. Once that has stood still for a few of its intervals, the agent must
    # not take the scrape for news.
    counted: list[tuple[float, float]] = []

    def standing_still() -> bool:
        count = lab.scraped('ceph_prometheus_collect_duration_seconds_count{method="get_health"}')
        if not counted or counted[-1][1] != count:
            counted.append((time.monotonic(), count))
        return time.monotonic() - counted[-1][0] > 4 * SCRAPE_INTERVAL_S

    lab.wait("the module's collections standing still", standing_still, 120)
    assert "ceph_health_status 0.0" in lab.scrape()  # what a reader that trusted it would report
    stale = module.check(ceph_health)
    assert stale.state == 2 and "no monitor answered" in stale.summary, stale.summary
    assert b"<<<ceph_status_metrics" not in module.output
    assert module.agent_seconds < 2 * AGENT_TIMEOUT_S
