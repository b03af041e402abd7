"""MooseFS checks against a real MooseFS 3.0 cluster (`tests/labs/moosefs.py`): healthy,
a killed chunkserver (counts, ETA, recovery), a frozen one, a disk drained for removal,
goal-1 data lost with per-path checks, and the Nagios-plugin mode.

The lab runs in its own network namespace; the agent reaches it through a command prefix
in its configuration (`nsenter --net=...`), the way a user would configure it. Expected
counts come from `mfsfileinfo` (the valid copies of each file's chunks, read through the
mount) right after each fault with replication paused, not from the mfscli output the
checks read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import missing
from tests.labs.agent_monitor import AgentMonitor
from tests.labs.moosefs import MooseFSLab, cs_address, unavailable
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.moosefs.chunkservers import moosefs_chunkservers
from watchkeeper.plugins.moosefs.files import moosefs_files
from watchkeeper.plugins.moosefs.replication import moosefs_replication

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

GOAL2_FILES, GOAL3_FILES, GOAL1_FILES = 120, 240, 40


def copies_by_file(lab: MooseFSLab, folder: str) -> dict[str, list[set[str]]]:
    """Each file's chunks, as the set of chunkservers holding a valid copy (mfsfileinfo)."""
    root = lab.mountpoint / folder
    files = sorted(str(path) for path in root.iterdir())
    found: dict[str, list[set[str]]] = {}
    for start in range(0, len(files), 100):
        batch = files[start:start + 100]
        text = lab.run("mfsfileinfo", *batch).stdout
        current: list[set[str]] | None = None
        for line in text.splitlines():
            if line.endswith(":") and line[:-1] in batch:
                current = found.setdefault(os.path.relpath(line[:-1], root), [])
            elif current is not None and line.strip().startswith("chunk "):
                current.append(set())
            elif current is not None and "(status:VALID)" in line:
                current[-1].add(line.split()[2])
    return found


@pytest.fixture(scope="module")
def lab() -> Iterator[MooseFSLab]:
    reason = unavailable()
    if reason is not None:
        missing(reason)
    # slower replication (one copy at a time per server) so a recovery lasts long enough to watch
    with MooseFSLab.start(chunkservers=4, master_extra={"CHUNKS_WRITE_REP_LIMIT": "1,1,1,1"}) as the_lab:
        the_lab.fill("goal2", goal=2, small=GOAL2_FILES)
        the_lab.fill("goal3", goal=3, small=GOAL3_FILES)
        yield the_lab


class Monitor(AgentMonitor):
    def __init__(self, lab: MooseFSLab, tmp: Path) -> None:
        super().__init__(tmp / "agent.json", {"moosefs": {
            "master": "127.0.0.1:19421", "command_prefix": lab.prefix,
            "paths": [str(lab.mountpoint / "goal1"), str(lab.mountpoint / "goal3")],
        }})

    def replication(self) -> Outcome:
        return self.check(moosefs_replication)

    def chunkserver(self, address: str) -> Outcome:
        return self.check(moosefs_chunkservers, address)


def wait_for(what: str, condition: Callable[[], Outcome | None], timeout: float = 240) -> Outcome:
    """Poll the real cluster until `condition` returns an outcome (bounded; the cluster sets the pace)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last is not None:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def metric(outcome: Outcome, name: str) -> float:
    return next(m.value for m in outcome.metrics if m.name == name)


def healthy(monitor: Monitor, lab: MooseFSLab) -> None:
    def ok() -> Outcome | None:
        outcome = monitor.replication()
        return outcome if outcome.state == 0 else None  # extra copies of a returned server may remain

    wait_for("all chunks at their goal", ok)
    for index in range(1, 5):
        assert monitor.chunkserver(cs_address(index)).state == 0


@pytest.fixture()
def monitor(lab: MooseFSLab, tmp_path: Path) -> Iterator[Monitor]:
    watch = Monitor(lab, tmp_path)
    yield watch
    lab.replication(paused=False)
    for index in range(1, 5):
        lab.start_chunkserver(index)


def test_healthy_cluster_reports_the_chunks_it_holds(lab: MooseFSLab, monitor: Monitor) -> None:
    outcome = monitor.replication()
    assert outcome.state == 0, outcome.summary
    # a freshly written chunk may keep an extra copy until the master's next loop deletes it
    assert metric(outcome, "mfs_goal2_stable") + metric(outcome, "mfs_goal2_overgoal") == GOAL2_FILES
    assert metric(outcome, "mfs_goal3_stable") + metric(outcome, "mfs_goal3_overgoal") == GOAL3_FILES
    assert f"all {GOAL2_FILES + GOAL3_FILES} chunks have their copies" in outcome.summary
    assert "Chunk loop" in outcome.details
    for index in range(1, 5):
        cs = monitor.chunkserver(cs_address(index))
        assert cs.state == 0 and "connected" in cs.summary, cs.summary


def test_disk_marked_for_removal_drains_with_eta_until_ready(lab: MooseFSLab, monitor: Monitor) -> None:
    healthy(monitor, lab)
    victim = cs_address(4)
    lab.mark_for_removal(4)
    try:
        summaries: list[str] = []

        def ready() -> Outcome | None:
            outcome = monitor.chunkserver(victim)
            summaries.append(outcome.summary)
            return outcome if "removal: READY" in outcome.summary else None

        done = wait_for("the marked disk to be READY", ready, timeout=400)
        assert done.state == 0
        assert any("NOT READY" in text and "still need copies" in text for text in summaries), summaries[:3]
        assert any("done in about" in text for text in summaries), summaries
        assert monitor.replication().state == 0  # copies on a marked disk still count: no false alarm
    finally:
        lab.mark_for_removal(4, marked=False)


def test_killed_chunkserver_warns_with_exact_counts_then_eta_then_ok(lab: MooseFSLab, monitor: Monitor) -> None:
    healthy(monitor, lab)
    victim = cs_address(2)
    lab.replication(paused=True)
    lab.kill_chunkserver(2)
    # copies left, per chunk, from mfsfileinfo: with replication paused only extra copies can
    # still go away (the master trims overgoal chunks to their goal), never copies below goal
    left2 = [len(servers) for chunks in copies_by_file(lab, "goal2").values() for servers in chunks]
    left3 = [len(servers) for chunks in copies_by_file(lab, "goal3").values() for servers in chunks]
    endangered = left2.count(1) + left3.count(1)
    endangered2 = left2.count(1)
    undergoal = left3.count(2)
    assert endangered and undergoal

    first = monitor.replication()
    assert first.state == 1, first.summary
    assert f"{undergoal} chunks of goal 3 lack replicas" in first.summary
    assert f"{endangered2} chunks of goal 2 are down to one copy" in first.summary
    assert metric(first, "mfs_chunks_undergoal") == undergoal
    assert "done in about" not in first.summary
    assert monitor.chunkserver(victim).state == 2

    stalled = monitor.replication()
    assert "not falling" in stalled.summary and "done in about" not in stalled.summary

    plugin = subprocess.run([sys.executable, "-m", "watchkeeper.cli.main", "--home", str(monitor.config.parent),
                             "plugin", "moosefs-replicas", "--master", "127.0.0.1:19421",
                             "--prefix", " ".join(lab.prefix)], capture_output=True, text=True, timeout=60)
    assert plugin.returncode == 1, plugin.stdout + plugin.stderr
    first_line = plugin.stdout.splitlines()[0]
    assert first_line.startswith(f"WARN - {endangered2} chunks of goal 2")
    assert f"'mfs_chunks_undergoal'={undergoal}" in first_line
    only3 = subprocess.run([sys.executable, "-m", "watchkeeper.cli.main", "--home", str(monitor.config.parent),
                            "plugin", "moosefs-replicas", "--master", "127.0.0.1:19421", "--goal", "3",
                            "--prefix", " ".join(lab.prefix)], capture_output=True, text=True, timeout=60)
    assert only3.returncode == 1 and "goal 2" not in only3.stdout.splitlines()[0]

    total = endangered + undergoal
    lab.replication(paused=False)

    def some_replicated() -> Outcome | None:
        counts = subprocess.run([*lab.prefix, "mfscli", "-H", "127.0.0.1", "-P", "19421", "-SIC"],
                                capture_output=True, text=True, timeout=30).stdout
        lacking = sum(int(line.split("\t")[-1]) for line in counts.splitlines()
                      if "chunkclass endangered" in line or "chunkclass undergoal" in line)
        return Outcome("", 0, "") if lacking < total else None

    wait_for("replication to start", some_replicated, timeout=120)
    lab.replication(paused=True)  # hold it part-way: the next check sees a falling count
    falling = monitor.replication()
    assert falling.state == 1 and "done in about" in falling.summary, falling.summary
    assert metric(falling, "mfs_replication_eta_seconds") > 0
    lab.replication(paused=False)
    recovered = wait_for("redundancy back", lambda: (o if (o := monitor.replication()).state == 0 else None))
    assert "all" in recovered.summary
    assert monitor.chunkserver(victim).state == 2  # still gone: recovered data, not a recovered server


def test_frozen_chunkserver_is_reported(lab: MooseFSLab, monitor: Monitor) -> None:
    healthy(monitor, lab)
    victim = cs_address(3)
    lab.freeze_chunkserver(3)
    outcome = wait_for("the frozen chunkserver to be reported",
                       lambda: (o if (o := monitor.chunkserver(victim)).state != 0 else None), timeout=90)
    assert outcome.state == 2 and "disconnected" in outcome.summary
    lab.thaw_chunkserver(3)


def test_goal1_files_on_a_killed_server_are_crit_by_name(lab: MooseFSLab, monitor: Monitor) -> None:
    healthy(monitor, lab)
    lab.fill("goal1", goal=1, small=GOAL1_FILES)
    goal1 = copies_by_file(lab, "goal1")
    victims = [max(range(1, 5), key=lambda i: sum(c[0] == {cs_address(i)} for c in goal1.values()))]
    lab.replication(paused=True)
    lab.kill_chunkserver(victims[0])

    def below_goal() -> list[str]:
        chunks_by_file = copies_by_file(lab, "goal3").items()
        return sorted(name for name, chunks in chunks_by_file if any(len(s) < 3 for s in chunks))

    # After the earlier tests the first victim may hold no goal-3 copy, or only copies of chunks
    # that still carry a fourth (extra) copy: then stop a second server. With two of four down,
    # every goal-3 chunk is below its goal whatever the placement.
    below = below_goal()
    if not below:
        victims.append(next(i for i in range(1, 5) if i != victims[0]))
        lab.kill_chunkserver(victims[1])
        below = below_goal()
    lost = sorted(name for name, chunks in copies_by_file(lab, "goal1").items() if any(not s for s in chunks))
    assert lost and below, f"stopped {victims}; goal-1 chunks per server before: {goal1}"

    outcome = monitor.replication()
    assert outcome.state == 2
    assert f"{len(lost)} chunks of goal 1 have no copy" in outcome.summary
    assert "mfsfilerepair" in outcome.details

    files = monitor.check(moosefs_files, str(lab.mountpoint / "goal1"))
    assert files.state == 2, files.summary
    assert f"{len(lost)} files have chunks with 0 copies: {lost[0]}" in files.summary
    assert all(name in files.details for name in lost)
    assert "mfsfilerepair" in files.details
    under = monitor.check(moosefs_files, str(lab.mountpoint / "goal3"))
    assert under.state == 1, under.summary
    assert f"{len(below)} files have fewer copies than their goal: {below[0]}" in under.summary
