"""The Ceph lab leaves nothing behind: no daemon, no directory, whether it ran or failed to start."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.conftest import missing
from tests.labs.ceph import CephLab, unavailable

pytestmark = pytest.mark.slow


def lab_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("watchkeeper-ceph-lab-*"))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


@pytest.fixture(autouse=True)
def ceph_present() -> None:
    reason = unavailable()
    if reason is not None:
        missing(reason)


def test_a_lab_that_ran_leaves_nothing() -> None:
    before = lab_dirs()
    lab = CephLab.start(osds=1)
    pids = [process.pid for process in lab.processes.values()]
    assert len(pids) == 3 and lab.dir.exists()
    lab.close()
    assert not any(alive(pid) for pid in pids) and not lab_processes()
    assert lab_dirs() == before


def test_a_lab_that_failed_to_start_leaves_nothing() -> None:
    before = lab_dirs()
    started = None
    try:
        with pytest.raises(RuntimeError, match="ceph-osd --mkfs"):  # its OSD cannot make its data directory
            started = CephLab.start(osds=1, extra={"osd data": "/proc/no-such-place/$cluster-$id"})
    finally:
        if started is not None:
            started.close()
    assert lab_dirs() == before
    assert not lab_processes()


def lab_processes() -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        if "watchkeeper-ceph-lab-" in command:
            found.append(command)
    return found
