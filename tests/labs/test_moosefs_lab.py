"""The MooseFS lab cleans up after itself: after `close()`, and after its creator was killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO, missing
from tests.labs.moosefs import LAB_PREFIX, MooseFSLab, is_mount_point, mounts_below, sweep_stale_labs, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(autouse=True)
def _needs_the_lab() -> None:
    reason = unavailable()
    if reason is not None:
        missing(reason)


def traces(directory: Path, netns: str) -> list[str]:
    """Everything a lab could leave behind: its namespace, processes, mounts and folder."""
    found = []
    if Path(f"/run/netns/{netns}").exists():
        found.append(f"network namespace {netns}")
    for entry in Path("/proc").iterdir():
        if entry.name.isdecimal():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(directory) in command:
                found.append(f"process {entry.name}: {command[:120]}")
    found.extend(f"mount {point}" for point in mounts_below(directory))
    if directory.exists():
        found.append(f"folder {directory}")
    netns_folder = Path("/run/netns")
    if netns_folder.is_dir() and not any(netns_folder.iterdir()) and is_mount_point(netns_folder):
        found.append("the bind mount /run/netns (a filesystem for anything that lists them)")
    return found


def test_closing_a_lab_leaves_no_namespace_process_mount_or_folder() -> None:
    lab = MooseFSLab.start(chunkservers=2)
    directory, netns = lab.directory, lab.netns
    try:
        lab.fill("data", goal=2, small=5)
        assert os.path.ismount(lab.mountpoint)
        assert traces(directory, netns), "a running lab should be visible"
    finally:
        lab.close()
    assert traces(directory, netns) == []


def test_a_lab_whose_test_run_was_killed_is_swept_by_the_next_one() -> None:
    script = ("import sys, time\nsys.path.insert(0, sys.argv[1])\nfrom tests.labs.moosefs import MooseFSLab\n"
              "lab = MooseFSLab.start(chunkservers=1)\nprint(lab.directory, lab.netns, flush=True)\n"
              "time.sleep(600)\n")
    owner = subprocess.Popen([sys.executable, "-c", script, str(REPO)], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        directory_text, netns = owner.stdout.readline().split()
        directory = Path(directory_text)
        owner.send_signal(signal.SIGKILL)  # no teardown runs
        owner.wait(timeout=30)
        assert traces(directory, netns), "the killed run's lab should still be there"
        assert netns in sweep_stale_labs()
        assert traces(directory, netns) == []
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        if owner.stdout is not None:
            owner.stdout.close()
        sweep_stale_labs()
    assert not [p for p in Path(tempfile.gettempdir()).glob(f"{LAB_PREFIX}*") if str(p) == directory_text]
