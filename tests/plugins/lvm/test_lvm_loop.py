"""LVM checks against real LVM2 on loop devices, through the real agent.

This kernel may have no device-mapper: then no LV can be activated, but PVs and VGs can be
created and reported, and a VG that loses a PV is reported partial. Thin-pool fill needs
device-mapper; that test probes for it and runs where it is there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, missing
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.engine.checking import collapse, parse_host
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.lvm.groups import GroupParams, lvm_groups
from watchkeeper.plugins.lvm.report import Lvm, parse_lvm
from watchkeeper.plugins.lvm.thin import ThinParams, lvm_thin_pools

AGENT = REPO / "src" / "watchkeeper" / "agent" / "watchkeeper_agent.py"
MiB = 1 << 20
QUIET = {**os.environ, "LVM_SUPPRESS_FD_WARNINGS": "1"}


def run(*argv: str) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, env=QUIET)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


@dataclass
class Group:
    name: str
    loops: list[str]


@pytest.fixture()
def group(tmp_path: Path) -> Iterator[Group]:
    if os.geteuid() != 0:
        missing("root (loop devices and LVM need it)")
    if shutil.which("vgcreate") is None or shutil.which("losetup") is None:
        missing("LVM2 and losetup (Debian packages lvm2, mount)")
    name = f"wkvg{os.getpid() % 100000}"
    loops: list[str] = []
    try:
        for index in range(2):
            image = tmp_path / f"pv{index}.img"
            with open(image, "wb") as handle:
                handle.truncate(64 * MiB)
            loops.append(run("losetup", "--find", "--show", str(image)))
        run("pvcreate", "-q", *loops)
        run("vgcreate", "-q", name, *loops)
        yield Group(name, loops)
    finally:
        subprocess.run(["vgremove", "-f", name], capture_output=True, timeout=60, env=QUIET)
        for loop in loops:
            subprocess.run(["losetup", "-d", loop], capture_output=True, timeout=60)
        for leftover in (Path("/etc/lvm/backup") / name, *Path("/etc/lvm/archive").glob(f"{name}_*")):
            leftover.unlink(missing_ok=True)


def agent_lvm() -> Lvm:
    output = subprocess.run([sys.executable, "-I", str(AGENT)], capture_output=True, timeout=120).stdout
    parsed = parse_lvm(split_sections(output).sections["lvm"])
    assert parsed is not None
    return parsed


def check_vg(name: str) -> Outcome:
    return collapse(name, lvm_groups.check(name, GroupParams(), agent_lvm(), {}, time.time()))


def test_new_volume_group_reports_its_free_space(group: Group) -> None:
    section = agent_lvm()
    assert group.name in [service.item for service in lvm_groups.discover(section)]
    outcome = check_vg(group.name)
    assert outcome.state == 0, outcome.summary
    # two 64 MiB PVs: 1 MiB for metadata each, then 4 MiB extents -> 15 extents per PV
    assert "Free: 100.00%, 120.00 MiB of 120.00 MiB" in outcome.summary
    assert {m.name: m.value for m in outcome.metrics}["lvm_vg_free_bytes"] == 120 * MiB


def test_lost_disk_makes_the_group_partial_and_names_the_pv(group: Group) -> None:
    gone = group.loops[1]
    uuid = run("pvs", "--noheadings", "-o", "pv_uuid", gone)
    run("losetup", "-d", gone)
    outcome = check_vg(group.name)
    assert outcome.state == 2
    assert f"1 of 2 PVs missing: PV {uuid} (last seen as {gone})" in outcome.summary
    assert "vgreduce --removemissing" in outcome.details


def device_mapper() -> bool:
    """Probe, do not assume: the control node exists and the kernel answers `dmsetup version`."""
    return os.path.exists("/dev/mapper/control") and subprocess.run(
        ["dmsetup", "version"], capture_output=True, timeout=30).returncode == 0


def test_real_thin_pool_fill(group: Group) -> None:
    if not device_mapper():
        pytest.skip("this kernel has no device-mapper (probed: /dev/mapper/control and `dmsetup version`); "
                    "thin-pool levels are tested on real lvs outputs (tests/plugins/lvm/fixtures)")
    run("lvcreate", "-q", "-L", "40M", "-T", f"{group.name}/pool")
    run("lvcreate", "-q", "-V", "80M", "-T", f"{group.name}/pool", "-n", "thin")
    with open(f"/dev/{group.name}/thin", "r+b") as device:
        device.write(os.urandom(36 * MiB))
        os.fsync(device.fileno())
    item = f"{group.name}/pool"
    outcome = collapse(item, lvm_thin_pools.check(item, ThinParams(), agent_lvm(), {}, time.time()))
    data = {m.name: m.value for m in outcome.metrics}["lvm_thin_data_percent"]
    assert data >= 80.0 and outcome.state >= 1, outcome.summary  # 36 MiB written into 40 MiB
    assert "200.00% overcommit" in outcome.details


# The commands of the Checkmk agent's `lvm` plugin (CMK_VERSION 2.1.0b10), as it runs them.
CHECKMK_VGS = ["vgs", "--units", "b", "--nosuffix", "--noheadings", "--separator", "\t"]
CHECKMK_LVS = ["lvs", "--units", "b", "--nosuffix", "--noheadings", "--separator", "|"]


def checkmk_plugin_lvm() -> Lvm:
    vgs = subprocess.run(CHECKMK_VGS, capture_output=True, text=True, timeout=60, env=QUIET).stdout
    lvs = subprocess.run(CHECKMK_LVS, capture_output=True, text=True, timeout=60, env=QUIET).stdout
    raw = f"<<<lvm_vgs>>>\n{vgs}<<<lvm_lvs:sep(124)>>>\n{lvs}".encode()
    parsed = parse_host(builtin_catalog(), split_sections(raw)).sections.get("lvm")
    assert isinstance(parsed, Lvm), raw
    return parsed


def test_the_checkmk_lvm_plugins_reports_give_the_same_group(group: Group) -> None:
    theirs = checkmk_plugin_lvm().vgs[group.name]
    assert theirs == agent_lvm().vgs[group.name]
    gone = group.loops[1]
    run("losetup", "-d", gone)
    partial = checkmk_plugin_lvm()
    assert partial.vgs[group.name].missing_pv_count == 1
    outcome = collapse(group.name, lvm_groups.check(group.name, GroupParams(), partial, {}, time.time()))
    assert outcome.state == 2 and "missing" in outcome.summary, outcome.summary
