"""MegaRAID checks on real storcli (JSON and text) and MegaCli outputs kept in fixtures/ with their sources."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures
from watchkeeper.checkapi import StringTable, build_params
from watchkeeper.engine.checking import collapse
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.megaraid.batteries import megaraid_batteries
from watchkeeper.plugins.megaraid.drives import megaraid_drives
from watchkeeper.plugins.megaraid.model import MegaRaid
from watchkeeper.plugins.megaraid.section import parse_megaraid
from watchkeeper.plugins.megaraid.volumes import VolumeParams, megaraid_volumes

FIXTURES = fixtures(__file__)


def section(kind: str, *relatives: str) -> MegaRaid:
    """As the agent prints it: a `[storcli json]` line then one JSON per line, or the tool's text."""
    table: StringTable = [[f"[{kind}]"]]
    for relative in relatives:
        text = (FIXTURES / relative).read_text()
        if kind == "storcli json":
            table.append([json.dumps(json.loads(text))])
        else:
            table.extend([line] for line in text.splitlines() if line.strip())
    parsed = parse_megaraid(table)
    assert parsed is not None
    return parsed


def check(plugin: Any, raid: MegaRaid, item: str, **params: object) -> Outcome:
    """Discover, then check with the facts of discovery, as the engine does."""
    facts = next(service.facts for service in plugin.discover(raid) if service.item == item)
    merged = build_params(plugin.default_params, facts, params)
    return collapse(item, plugin.check(item, merged, raid, {}, 0.0))


def test_storcli_json_healthy_controller() -> None:
    raid = section("storcli json", "storcli_json/controllers_show_all_m5015.txt")
    vd = check(megaraid_volumes, raid, "c0/v0")
    assert vd.state == 0 and vd.summary == "optimal" and "RAID6 'Sluthub' 58.207 TB" in vd.details
    assert check(megaraid_batteries, raid, "c0").summary == "BBU iBBU08: optimal"
    drives = [service.item for service in megaraid_drives.discover(raid)]
    assert len(drives) == 6 and all(check(megaraid_drives, raid, item).state == 0 for item in drives)


def test_storcli_json_drive_details_give_error_counters() -> None:
    raid = section("storcli json", "storcli_json/controllers_show_all_m5015.txt", "storcli_json/drives_show_all.txt")
    outcome = check(megaraid_drives, raid, "c0/e252/s0")
    assert outcome.state == 0 and {m.name for m in outcome.metrics} >= {"megaraid_media_errors"}


def test_hba_without_virtual_drives() -> None:
    for raid in (section("storcli json", "storcli_json/mpt3sas_hba_controllers.txt"),
                 section("storcli text", "storcli_show_all/hba_no_vd.txt")):
        assert list(megaraid_volumes.discover(raid)) == [] and raid.errors == []


def test_degraded_vd_names_the_offline_drive() -> None:
    raid = section("storcli text", "storcli_show_all/c0_vd_dgrd_pd_offln.txt")
    assert check(megaraid_volumes, raid, "c0/v0").state == 0
    vd = check(megaraid_volumes, raid, "c0/v1")
    assert vd.state == 2 and vd.summary == "degraded: c0/e24/s10 Offln (!!)"
    pd = check(megaraid_drives, raid, "c0/e24/s10")
    assert pd.state == 2 and pd.summary.startswith("Offln")
    assert check(megaraid_batteries, raid, "c0").summary == "CacheVault CVPM02: optimal"


def test_offline_vd_names_both_drives() -> None:
    raid = section("storcli text", "storcli_show_all/c0_vd_offline.txt")
    vd = check(megaraid_volumes, raid, "c0/v1")
    assert vd.state == 2 and "offline: c0/e24/s10 Offln, c0/e24/s11 Offln" in vd.summary


def test_three_controllers_in_one_output() -> None:
    raid = section("storcli text", "storcli_show_all/multi_controller_3ctl_degraded.txt")
    assert sorted(raid.vds) == ["c1/v0", "c2/v0"]
    assert check(megaraid_volumes, raid, "c1/v0").state == 0
    vd = check(megaraid_volumes, raid, "c2/v0")
    assert vd.state == 2 and "c2/e88/s9 Offln" in vd.summary and "'VD_0' 100.0 GB" in vd.details
    assert check(megaraid_batteries, raid, "c0").summary == "BBU iBBU-09: optimal"
    assert check(megaraid_batteries, raid, "c2").summary == "CacheVault CVPM02: optimal"


def test_write_cache_fallen_back_to_write_through_warns() -> None:
    raid = section("megacli", "megacli_ldinfo/write_cache_disabled.txt")
    vd = check(megaraid_volumes, raid, "c0/v0")
    assert vd.state == 1
    assert "write cache is write-through, expected write-back" in vd.summary


def test_rule_expectations_for_write_and_disk_cache() -> None:
    raid = section("storcli text", "storcli_show_all/multi_controller_3ctl_degraded.txt")
    assert check(megaraid_volumes, raid, "c1/v0").state == 0  # NRWTD, configured policy not in this output
    expected = check(megaraid_volumes, raid, "c1/v0", write_policy="WB")
    assert expected.state == 1 and "write cache is write-through, expected write-back" in expected.summary
    legacy = section("megacli", "megacli_ldinfo/healthy_2vd_raid1_raid5.txt")
    disk = collapse("v", megaraid_volumes.check("c0/v0", VolumeParams(disk_cache="Disabled"), legacy, {}, 0.0))
    assert disk.state == 1 and "disk cache policy is Disk's Default, expected Disabled" in disk.summary


def test_megacli_healthy_volumes_and_drives() -> None:
    raid = section("megacli", "megacli_ldinfo/healthy_2vd_raid1_raid5.txt", "megacli_pdlist/healthy_12pd_2hotspare.txt")
    assert {item: check(megaraid_volumes, raid, item).summary for item in raid.vds} == {
        "c0/v0": "optimal", "c0/v1": "optimal"}
    states = {item: check(megaraid_drives, raid, item).state for item in raid.pds}
    assert len(states) == 12 and set(states.values()) == {0}
    assert check(megaraid_drives, raid, "c0/e15/s11").summary == "Hotspare"


def test_megacli_ld_and_pd_in_one_output() -> None:
    raid = section("megacli", "megacli_ldpdinfo/healthy_raid1_8ssd.txt")
    assert list(raid.vds) == ["c0/v0"] and len(raid.pds) == 8
    assert check(megaraid_volumes, raid, "c0/v0").state == 0


def test_predictive_failure_warns_and_error_counters_are_judged_as_increases() -> None:
    raid = section("megacli", "megacli_pdlist/predictive_failure.txt")
    outcome = check(megaraid_drives, raid, "c0/e252/s5")
    assert outcome.state == 1 and "predictive failure count 4" in outcome.summary
    assert "94 media errors, as at discovery" in outcome.details
    grown = collapse("d", megaraid_drives.check("c0/e252/s5", build_params(
        megaraid_drives.default_params, {"media_errors": 90, "other_errors": 12}), raid, {}, 0.0))
    assert "94 media errors (+4 since discovery)" in grown.summary


def test_jbod_drives_are_ok() -> None:
    raid = section("megacli", "megacli_pdlist/jbod_4disks.txt")
    assert {check(megaraid_drives, raid, item).summary for item in raid.pds} == {"JBOD"}


def test_battery_replacement_required_is_crit() -> None:
    raid = section("megacli", "megacli_bbu/battery_replacement_required.txt")
    outcome = check(megaraid_batteries, raid, "c0")
    assert outcome.state == 2 and "replacement required" in outcome.summary
    assert check(megaraid_batteries, section("megacli", "megacli_bbu/bbu_optimal_old_fw.txt"), "c0").state == 0
    assert check(megaraid_batteries, section("megacli", "megacli_bbu/host3_bbu.txt"), "c0").state == 0


def test_vanished_drive_and_tool_errors() -> None:
    raid = parse_megaraid([["[storcli json]"], ["watchkeeper-error: storcli64 did not answer within 60s"]])
    assert raid is not None
    outcome = collapse("d", megaraid_drives.check("c0/e252/s0", megaraid_drives.default_params, raid, {}, 0.0))
    assert outcome.state == 2 and "storcli64 did not answer within 60s" in outcome.summary


@given(st.lists(st.text(max_size=100), max_size=30), st.sampled_from(["storcli json", "storcli text", "megacli"]))
def test_parser_never_raises(lines: list[str], kind: str) -> None:
    raid = parse_megaraid([[f"[{kind}]"], *([line] for line in lines)])
    assert raid is not None
    plugins: tuple[Any, ...] = (megaraid_volumes, megaraid_drives, megaraid_batteries)
    for plugin in plugins:
        for service in plugin.discover(raid):
            list(plugin.check(service.item, plugin.default_params, raid, {}, 0.0))


@given(st.integers(min_value=0, max_value=15000))
def test_truncated_text_never_raises(cut: int) -> None:
    text = (FIXTURES / "storcli_show_all/c0_vd_dgrd_pd_offln.txt").read_text()[:cut]
    raid = parse_megaraid([["[storcli text]"], *([line] for line in text.splitlines() if line.strip())])
    assert raid is not None
    for item in raid.vds:
        assert collapse(item, megaraid_volumes.check(item, VolumeParams(), raid, {}, 0.0)).state in (0, 1, 2, 3)
