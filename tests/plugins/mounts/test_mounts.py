from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import CHECKMK_1_4, agent_section, fixtures, results, section_from_file
from watchkeeper.checkapi import Result, State, build_params
from watchkeeper.plugins.mounts.mounts import MountParams, check_mounts, discover_mounts, parse_mounts

FIXTURES = fixtures(__file__)

UNSAFE = FIXTURES / "proc_mounts/ext4_loop_barrier0_data_writeback.txt"


def test_healthy_mounts_are_discovered_and_ok() -> None:
    section = parse_mounts(section_from_file(FIXTURES / "proc_mounts/debian12_vm.txt", "mounts"))
    services = list(discover_mounts(section))
    assert [s.item for s in services] == ["/"]
    params = build_params(MountParams(), services[0].facts)
    assert {r.state for r in results(check_mounts("/", params, section, {}, 0.0))} == {State.OK}


def test_nobarrier_and_data_writeback_each_warn_naming_mount_and_option() -> None:
    section = parse_mounts(section_from_file(UNSAFE, "mounts"))
    warnings = [r.summary for r in results(check_mounts("/mnt/wbtest", MountParams(), section, {}, 0.0))
                if r.state is State.WARN]
    assert len(warnings) == 2
    assert warnings[0].startswith("unsafe option nobarrier on /mnt/wbtest: write barriers are off")
    assert warnings[1].startswith("unsafe option data=writeback on /mnt/wbtest")


def test_barrier_zero_is_unsafe_too() -> None:
    section = parse_mounts([["/dev/sdb1", "/data", "ext4", "rw,barrier=0", "0", "0"]])
    assert any(r.state is State.WARN and "barrier=0" in r.summary
               for r in check_mounts("/data", MountParams(), section, {}, 0.0) if isinstance(r, Result))


def test_filesystem_remounted_read_only_after_errors_is_crit() -> None:
    section = parse_mounts([["/dev/sdb1", "/data", "ext4", "ro,relatime", "0", "0"]])
    checked = results(check_mounts("/data", MountParams(options="rw,relatime"), section, {}, 0.0))
    assert any(r.state is State.CRIT and "read-only" in r.summary for r in checked)


def test_unmounted_filesystem_is_crit() -> None:
    assert results(check_mounts("/data", MountParams(), {}, {}, 0.0))[0].state is State.CRIT


def test_octal_escaped_mount_points_are_unescaped() -> None:
    section = parse_mounts([["/dev/sdc1", "/mnt/my\\040disk", "xfs", "rw", "0", "0"]])
    assert list(section) == ["/mnt/my disk"]


def test_checkmk_agent_mounts_section_is_accepted() -> None:
    section = parse_mounts(agent_section(CHECKMK_1_4, "mounts"))
    assert section["/"].fs_type == "ext4"


@given(st.lists(st.lists(st.text(max_size=10), max_size=7)))
def test_parse_mounts_never_crashes(table: list[list[str]]) -> None:
    parse_mounts(table)
