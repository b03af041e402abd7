"""ZFS pool checks on real `zpool`/`zfs` outputs (OpenZFS and zfs-fuse) kept in fixtures/ with their sources."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, results
from watchkeeper.checkapi import Metric, Pending, Result, State, StringTable, ValueStore
from watchkeeper.engine.checking import collapse
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.zfs.pools import PoolParams, zfs_pools
from watchkeeper.plugins.zfs.zpool import Zfs, parse_zfs, size, timestamp

FIXTURES = fixtures(__file__)

DAY = 86400.0


def rows(*blocks: tuple[str, str]) -> StringTable:
    """What the agent prints: each command's real output after its marker line."""
    table: StringTable = []
    for marker, relative in blocks:
        table.append([f"[{marker}]"])
        table.extend([line] for line in (FIXTURES / relative).read_text().splitlines() if line.strip())
    return table


def status(relative: str) -> Zfs:
    parsed = parse_zfs(rows(("zpool status", f"zpool_status/{relative}.txt")))
    assert parsed is not None
    return parsed


def check(zfs: Zfs, pool: str, now: float | None = None, params: PoolParams | None = None) -> Outcome:
    scan = zfs.pools[pool].scan
    when = now if now is not None else (scan.finished_at or 0.0) + DAY if scan else 0.0
    return collapse(pool, zfs_pools.check(pool, params or PoolParams(), zfs, {}, when))


def test_a_two_way_mirror_that_lost_a_disk_is_crit_naming_it() -> None:
    outcome = check(status("degraded_mirror_removed"), "dummy")
    assert outcome.state == 2
    assert outcome.summary.startswith("state DEGRADED: drive0-part1 REMOVED; no redundancy left in mirror-0, "
                                      "one more failure loses data")
    assert Metric("zfs_redundancy_left", 0) in outcome.metrics
    assert "removed by the administrator" in outcome.details


def test_a_three_way_mirror_missing_one_disk_can_lose_one_more_and_keeps_its_old_path() -> None:
    outcome = check(status("degraded_unavail_cksum_100980"), "mypool")
    assert outcome.state == 1
    assert "mirror-0 can lose 1 more" in outcome.summary
    assert "12345678901234567890 UNAVAIL [was /dev/disk/by-id/ata-ST8000DM004" in outcome.summary
    assert "100980 checksum errors" in outcome.summary


def test_degraded_pool_without_scan_line() -> None:
    outcome = check(status("degraded_no_scan_line"), "broken")
    assert outcome.state == 2 and "loop1 UNAVAIL [corrupted data]; no redundancy left" in outcome.summary


def test_zfs_fuse_offline_device_and_repaired_checksum_errors() -> None:
    zfs = status("zfsfuse_offline_and_cksum_repaired")
    tank = check(zfs, "tank")
    assert tank.state == 2 and "/root/zfstest/d2.img OFFLINE; no redundancy left in mirror-0" in tank.summary
    assert "No scrub on record" in tank.details
    backup = check(zfs, "backup")
    assert backup.state == 1 and "/root/zfstest/d4.img: 1987 checksum errors" in backup.summary
    assert "zpool clear backup" in backup.details


def test_raidz_member_that_cannot_be_opened() -> None:
    outcome = check(status("zfsfuse_raidz_unavail_cannot_open"), "backup")
    assert outcome.state == 2  # a raidz1 that lost a member
    assert "8117011966645452567 UNAVAIL [was /root/zfstest/d5.img.gone]; no redundancy left in raidz1-0" \
        in outcome.summary


def test_permanent_data_errors_are_crit() -> None:
    outcome = check(status("online_data_corruption_zfs8000_8a"), "jeremy")
    assert outcome.state == 2
    assert "1 data errors: files are damaged" in outcome.summary
    assert "zpool status -v jeremy" in outcome.details


def test_checksum_errors_on_an_online_pool_warn() -> None:
    outcome = check(status("online_cksum_errors_zfs8000_9p"), "Data")
    assert outcome.state == 1 and "ata-TOSHIBA_DT01ACA300_365XDT3KS: 2 checksum errors" in outcome.summary


def test_resilver_progress_and_eta_in_the_old_one_line_format() -> None:
    zfs = status("zfsfuse_resilver_in_progress_45pct")
    outcome = check(zfs, "tank")
    assert outcome.state == 0
    assert "resilvering 45.54%, done in about less than a minute" in outcome.summary
    assert any(m.name == "zfs_resilver_percent_done" and m.value == 45.54 for m in outcome.metrics)


def test_healthy_pools_are_ok_and_scrub_age_is_judged() -> None:
    zfs = status("online_features_available")
    for pool in ("rpool", "wilbur"):
        assert check(zfs, pool).state == 0
    scan = zfs.pools["rpool"].scan
    finished = scan.finished_at if scan else None
    assert finished is not None and finished == timestamp("Sun Feb 11 04:00:01 2024")
    late = check(zfs, "rpool", now=finished + 40 * DAY)
    assert late.state == 1 and "last scrub 40 days ago (warn at 35 days)" in late.summary
    assert check(zfs, "rpool", now=finished + 40 * DAY, params=PoolParams(scrub_max_age_seconds=None)).state == 0


def test_finished_resilvers_are_ok() -> None:
    for relative, pool in (("online_after_resilver", "Data"), ("online_resilvered", "dummy"),
                           ("zfsfuse_resilver_completed", "tank"), ("zfsfuse_two_pools_online", "backup")):
        assert check(status(relative), pool).state == 0, relative


def test_healthy_x_output_has_no_pools() -> None:
    assert status("zfsfuse_x_all_healthy").pools == {}


def test_fill_from_zpool_list_and_zfs_get_in_both_formats() -> None:
    fuse = parse_zfs(rows(("zpool status", "zpool_status/zfsfuse_two_pools_online.txt"),
                          ("zpool list", "zpool_list/zfsfuse_H.txt"),
                          ("zfs get", "zfs_get/zfsfuse_Hp_used_avail_quota.txt")))
    assert fuse is not None
    tank = fuse.pools["tank"]
    assert tank.size_bytes == size("250M") and tank.used_bytes is not None and tank.available_bytes is not None
    outcome = check(fuse, "tank")
    used = next(m.value for m in outcome.metrics if m.name == "zfs_used_bytes")
    assert used == tank.used_bytes and "Used:" in outcome.summary
    exact = parse_zfs(rows(("zpool list", "zpool_list/Hp_freebsd14_zroot.txt")))
    assert exact is not None and exact.pools["zroot"].state == "ONLINE"
    assert exact.pools["zroot"].size_bytes and exact.pools["zroot"].size_bytes > 1e9
    unavail = parse_zfs(rows(("zpool list", "zpool_list/Hp_unavail_pool.txt")))
    assert unavail is not None and any(pool.state == "UNAVAIL" for pool in unavail.pools.values())
    name = next(name for name, pool in unavail.pools.items() if pool.state == "UNAVAIL")
    assert check(unavail, name).state == 2


def test_vanished_pool_is_crit_and_says_why() -> None:
    outputs = list(zfs_pools.check("gone", PoolParams(), Zfs(errors=["zpool status: zpool exited with 1"]), {}, 0.0))
    assert results(outputs)[0].state is State.CRIT and "zpool exited with 1" in results(outputs)[0].summary


def test_fill_forecast_after_growth() -> None:
    parsed = parse_zfs([["[zpool list]"], ["tank\t1000\t500\t500\t-\t-\t0\t50\t1.00\tONLINE\t-"]])
    assert parsed is not None
    zfs = parsed
    store: ValueStore = {}
    outputs: list[Result | Metric | Pending] = []
    for step in range(10):  # 10 bytes an hour for ten hours: a forecast once six hours are known
        zfs.pools["tank"].allocated_bytes = 500 + 10 * step
        outputs = list(zfs_pools.check("tank", PoolParams(used_percent=None), zfs, store, step * 3600.0))
    assert any(isinstance(m, Metric) and m.name == "zfs_time_until_full_seconds" for m in outputs)


@given(st.lists(st.text(max_size=80), max_size=40))
def test_parser_never_raises_on_arbitrary_lines(lines: list[str]) -> None:
    parsed = parse_zfs([[line] for line in lines])
    for name in parsed.pools if parsed else ():
        list(zfs_pools.check(name, PoolParams(), parsed, {}, 0.0))  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=4000))
def test_parser_never_raises_on_truncated_real_output(cut: int) -> None:
    text = (FIXTURES / "zpool_status/zfsfuse_offline_and_cksum_repaired.txt").read_text()[:cut]
    parsed = parse_zfs([["[zpool status]"], *([line] for line in text.splitlines() if line.strip())])
    assert parsed is not None
    for name in parsed.pools:
        list(zfs_pools.check(name, PoolParams(), parsed, {}, 0.0))


def test_a_failing_zpool_is_an_error_not_a_pool() -> None:
    parsed = parse_zfs([["[zpool status]"], ["watchkeeper-error: zpool exited with 1: connect: No such file"],
                        ["[zpool list]"], ["watchkeeper-error: zpool exited with 1: connect: No such file"]])
    assert parsed is not None and parsed.pools == {}
    assert parsed.errors == ["zpool status: zpool exited with 1: connect: No such file",
                             "zpool list: zpool exited with 1: connect: No such file"]
