"""ZFS checks against real pools: Debian's zfs-fuse (user-space ZFS, the older output format)
on file vdevs, through the real agent. A device taken offline, and a raidz member overwritten
with junk and then scrubbed, must each be named in a non-OK state. Snapshots by age, and
snapshots that all went."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, missing
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.checking import collapse
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.zfs.pools import PoolParams, zfs_pools
from watchkeeper.plugins.zfs.snapshots import SnapshotParams, zfs_snapshots
from watchkeeper.plugins.zfs.zpool import parse_zfs

AGENT = REPO / "src" / "watchkeeper" / "agent" / "watchkeeper_agent.py"
MiB = 1 << 20
SERIAL = itertools.count()


def zpool(*args: str) -> str:
    done = subprocess.run(["zpool", *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"zpool {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def destroy(pool: str) -> None:
    """zfs-fuse may answer `destroy` before the pool is gone: wait (bounded) until it is."""
    deadline = time.monotonic() + 30
    while subprocess.run(["zpool", "list", pool], capture_output=True, timeout=60).returncode == 0:
        subprocess.run(["zpool", "destroy", "-f", pool], capture_output=True, timeout=60)
        if time.monotonic() > deadline:
            raise AssertionError(f"test pool {pool} could not be destroyed")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def daemon() -> Iterator[None]:
    if shutil.which("zfs-fuse") is None or shutil.which("zpool") is None:
        missing("zfs-fuse (Debian package zfs-fuse)")
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        missing("root and /dev/fuse (zfs-fuse needs both)")
    started: subprocess.Popen[bytes] | None = None
    if subprocess.run(["pgrep", "-x", "zfs-fuse"], capture_output=True).returncode != 0:
        started = subprocess.Popen(["zfs-fuse", "--no-daemon", "--no-kstat-mount"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while subprocess.run(["zpool", "list"], capture_output=True).returncode != 0:
        if time.monotonic() > deadline or (started is not None and started.poll() is not None):
            if started is not None:
                started.kill()
            missing("a running zfs-fuse daemon (it did not answer `zpool list` within 30 s)")
        time.sleep(0.2)
    yield
    if started is not None:
        started.terminate()
        started.wait(timeout=30)


@pytest.fixture()
def pools(daemon: None, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    tag = f"wk{os.getpid() % 100000}{next(SERIAL)}"
    mirror, raidz = f"{tag}m", f"{tag}z"
    for index in range(1, 6):
        with open(tmp_path / f"d{index}", "wb") as handle:
            handle.truncate(96 * MiB)
    zpool("create", "-m", str(tmp_path / "mnt-m"), mirror, "mirror", str(tmp_path / "d1"), str(tmp_path / "d2"))
    try:
        zpool("create", "-m", str(tmp_path / "mnt-z"), raidz, "raidz1",
              *(str(tmp_path / f"d{index}") for index in (3, 4, 5)))
        yield mirror, raidz, tmp_path
    finally:
        for name in (mirror, raidz):
            destroy(name)


def check(pool: str) -> Outcome:
    output = subprocess.run([sys.executable, "-I", str(AGENT)], capture_output=True, timeout=120).stdout
    section = parse_zfs(split_sections(output).sections["zfs"])
    assert section is not None
    assert pool in section.pools, f"{pool} not in the agent's zfs section"
    return collapse(pool, zfs_pools.check(pool, PoolParams(), section, {}, time.time()))


def scrubbed(pool: str) -> None:
    zpool("scrub", pool)
    deadline = time.monotonic() + 120
    while "in progress" in zpool("status", pool):
        assert time.monotonic() < deadline, f"the scrub of {pool} did not finish within 120 s"
        time.sleep(0.2)


def test_new_pools_are_ok_with_fill_and_no_scrub_yet(pools: tuple[str, str, Path]) -> None:
    mirror, raidz, _ = pools
    for pool in (mirror, raidz):
        outcome = check(pool)
        assert outcome.state == 0, outcome.summary
        assert "state ONLINE" in outcome.summary and "Used:" in outcome.summary
        assert any(m.name == "zfs_compressratio" for m in outcome.metrics)


def test_a_mirror_with_a_device_taken_offline_has_no_redundancy_left_and_names_it(
        pools: tuple[str, str, Path]) -> None:
    mirror, _, folder = pools
    zpool("offline", mirror, str(folder / "d2"))
    outcome = check(mirror)
    assert outcome.state == 2
    assert f"state DEGRADED: {folder / 'd2'} OFFLINE; no redundancy left in mirror-0" in outcome.summary


def test_junk_on_a_raidz_member_shows_as_checksum_errors_after_a_scrub(pools: tuple[str, str, Path]) -> None:
    _, raidz, folder = pools
    data = folder / "mnt-z" / "data"
    data.write_bytes(os.urandom(24 * MiB))
    os.sync()
    victim = folder / "d4"
    with open(victim, "r+b") as handle:  # the middle only: the labels at both ends stay intact
        handle.seek(8 * MiB)
        handle.write(os.urandom(64 * MiB))
    scrubbed(raidz)
    outcome = check(raidz)
    assert outcome.state == 1, outcome.summary
    assert f"{victim}: " in outcome.summary and "checksum errors" in outcome.summary


def snapshots_service(dataset: str, now: float) -> Outcome:
    output = subprocess.run([sys.executable, "-I", str(AGENT)], capture_output=True, timeout=120).stdout
    section = parse_zfs(split_sections(output).sections["zfs"])
    assert section is not None
    return collapse(dataset, zfs_snapshots.check(dataset, SnapshotParams(), section, {}, now))


def test_each_datasets_newest_snapshot_by_age_and_snapshots_that_all_went(pools: tuple[str, str, Path]) -> None:
    mirror, _, _ = pools
    dataset = f"{mirror}/data"
    subprocess.run(["zfs", "create", dataset], check=True, capture_output=True, timeout=60)
    for name in ("daily-1", "daily-2"):
        subprocess.run(["zfs", "snapshot", f"{dataset}@{name}"], check=True, capture_output=True, timeout=60)
    now = time.time()
    fresh = snapshots_service(dataset, now)
    assert fresh.state == 0, fresh.summary
    assert fresh.summary.startswith("2 snapshots, ") and "newest @daily-" in fresh.summary
    assert snapshots_service(dataset, now + 3 * 86400).state == 2  # three days without one: CRIT at 50 h
    for name in ("daily-1", "daily-2"):
        subprocess.run(["zfs", "destroy", f"{dataset}@{name}"], check=True, capture_output=True, timeout=60)
    gone = snapshots_service(dataset, now)
    assert gone.state == 2 and "has no snapshot any more" in gone.summary
