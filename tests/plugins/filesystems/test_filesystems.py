from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import CHECKMK_1_4, agent_section, fixtures, results, section_from_file
from watchkeeper.checkapi import Metric, Result, State, ValueStore
from watchkeeper.collect.sections import split_sections
from watchkeeper.plugins.filesystems.df import Filesystem, parse_df
from watchkeeper.plugins.filesystems.inodes import InodeParams, check_inodes, discover_inodes
from watchkeeper.plugins.filesystems.space import SpaceParams, check_space, discover_space

FIXTURES = fixtures(__file__)

GiB = 1024**3


def test_df_without_header_from_the_checkmk_agent_with_inodes() -> None:
    section = parse_df(agent_section(CHECKMK_1_4, "df"))
    root = section["/"]
    assert root == Filesystem("/dev/vda", "ext4", 264212084 * 1024, 23226328 * 1024, 83164584 * 1024,
                              16777216, 411973)
    assert [s.item for s in discover_space(section)] == ["/"]
    assert [s.item for s in discover_inodes(section)] == ["/"]


@pytest.mark.parametrize("sample", ["df_PTk/debian12_vm.txt", "df_PTk/with_loop_ext4.txt"])
def test_df_with_its_header_line_parses_every_mount(sample: str) -> None:
    section = parse_df(section_from_file(FIXTURES / sample, "df"))
    assert "/" in section and "/dev/shm" in section
    assert all(fs.size_bytes >= fs.used_bytes for fs in section.values())


def test_df_space_and_inodes_from_separate_commands_join_per_mount() -> None:
    space = (FIXTURES / "df_PTk/debian12_vm.txt").read_bytes()
    inodes = (FIXTURES / "df_PTi/debian12_vm.txt").read_bytes()
    raw = b"<<<df>>>\n" + space + b"[df_inodes_start]\n" + inodes + b"[df_inodes_end]\n"
    root = parse_df(split_sections(raw).sections["df"])["/"]
    assert (root.inodes_total, root.inodes_used) == (16777216, 406119)


def test_mount_points_with_spaces_survive_parsing() -> None:
    section = parse_df([["/dev/sdb1", "ext4", "100", "50", "50", "50%", "/mnt/my", "disk"]])
    assert section["/mnt/my disk"].used_bytes == 50 * 1024


def test_tmpfs_is_not_discovered() -> None:
    section = parse_df(section_from_file(FIXTURES / "df_PTk/with_loop_ext4.txt", "df"))
    assert sorted(s.item for s in discover_space(section)) == ["/", "/mnt/wbtest"]


def fs(used_gib: float, size_gib: float = 100.0) -> dict[str, Filesystem]:
    used = int(used_gib * GiB)
    return {"/srv": Filesystem("/dev/sdb1", "ext4", int(size_gib * GiB), used, int(size_gib * GiB) - used)}


def test_filesystem_above_crit_is_crit_with_levels_in_the_text() -> None:
    results = list(check_space("/srv", SpaceParams(), fs(95), {}, 0.0))
    assert results[0] == Result(State.CRIT, "Used: 95.00% (warn/crit at 80.00%/90.00%)")


def test_growing_filesystem_says_when_it_will_be_full_and_warns_within_a_week() -> None:
    store: ValueStore = {}
    params = SpaceParams()
    results: list[object] = []
    for hour in range(48):  # +1 GiB per hour, 41 GiB free at the end
        results = list(check_space("/srv", params, fs(12 + hour), store, hour * 3600.0))
    summaries = [r.summary for r in results if isinstance(r, Result)]
    assert "growing 24.00 GiB/day" in summaries[-2]
    full_in = [r for r in results if isinstance(r, Result)][-1]
    assert full_in.state is State.WARN and full_in.summary == "full in: 1 day 17 hours (warn/crit below 7 days/1 day)"
    assert any(isinstance(r, Metric) and r.name == "fs_time_until_full_seconds" for r in results)


def test_shrinking_filesystem_forecasts_nothing() -> None:
    store: ValueStore = {}
    for hour in range(10):
        results = list(check_space("/srv", SpaceParams(), fs(50 - hour), store, hour * 3600.0))
    assert not any(isinstance(r, Result) and r.summary.startswith("full in") for r in results)


def test_free_space_lower_levels_for_big_filesystems() -> None:
    params = replace(SpaceParams(), used_percent=None)
    from watchkeeper.checkapi import Fixed
    params = replace(params, free_bytes=Fixed(50 * GiB, 10 * GiB))
    results = [r for r in check_space("/srv", params, fs(980, 1000), {}, 0.0) if isinstance(r, Result)]
    assert State.WARN in {r.state for r in results}


def test_unmounted_filesystem_is_crit() -> None:
    assert results(check_space("/gone", SpaceParams(), fs(1), {}, 0.0))[0].state is State.CRIT


def test_inodes_above_warn() -> None:
    section = {"/": Filesystem("/dev/sda1", "ext4", 1, 1, 0, 100, 92)}
    assert results(check_inodes("/", InodeParams(), section, {}, 0.0))[0].state is State.WARN


df_row = st.lists(st.one_of(st.sampled_from(["ext4", "/", "12", "0%", "[df_inodes_start]"]), st.text(max_size=8)),
                  max_size=9)


@given(st.lists(df_row))
def test_parse_df_never_crashes_on_mangled_output(table: list[list[str]]) -> None:
    parse_df(table)


mountpoints = st.from_regex(r"/([a-z0-9]{1,6}( [a-z0-9]{1,6})?/?){0,3}", fullmatch=True)


@given(st.dictionaries(mountpoints, st.tuples(st.integers(0, 2**40), st.integers(0, 2**40)), min_size=1))
def test_df_lines_written_like_the_agent_read_back(mounts: dict[str, tuple[int, int]]) -> None:
    lines = [f"/dev/sd{i} ext4 {used + avail} {used} {avail} 1% {mountpoint}"
             for i, (mountpoint, (used, avail)) in enumerate(mounts.items())]
    section = parse_df(split_sections(("<<<df>>>\n" + "\n".join(lines)).encode()).sections["df"])
    assert {mp: (fs.used_bytes, fs.avail_bytes) for mp, fs in section.items()} == {
        mp: (used * 1024, avail * 1024) for mp, (used, avail) in mounts.items()}
