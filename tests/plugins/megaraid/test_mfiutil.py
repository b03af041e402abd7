"""FreeBSD's mfiutil into the MegaRAID services: real `show drives`, and `show volumes`/`show battery`
in the layout of mfiutil's own source (see each fixture's .source.md)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import results
from watchkeeper.checkapi import NoParams, State
from watchkeeper.plugins.megaraid.batteries import check_battery
from watchkeeper.plugins.megaraid.drives import DriveParams, check_drive
from watchkeeper.plugins.megaraid.model import MegaRaid
from watchkeeper.plugins.megaraid.section import parse_megaraid
from watchkeeper.plugins.megaraid.volumes import VolumeParams, check_volume

OUTPUTS = Path(__file__).resolve().parents[2] / "agent_outputs" / "freebsd"


def controller(*relatives: str, extra: tuple[str, ...] = ()) -> MegaRaid:
    table = [["[mfiutil]"]]
    for relative in relatives:
        table.extend([line] for line in (OUTPUTS / relative).read_text().splitlines())
    table.extend([line] for line in extra)
    parsed = parse_megaraid(table)
    assert parsed is not None
    return parsed


def test_volumes_are_named_by_their_disk_device_and_judged_like_storcli() -> None:
    raid = controller("mfiutil_show_volumes/seed_os_and_vm_luns_degraded.txt")
    assert set(raid.vds) == {"c0/mfid0", "c0/mfid1"}
    assert results(check_volume("c0/mfid0", VolumeParams(), raid, {}, 0.0))[0].state == State.OK
    degraded = results(check_volume("c0/mfid1", VolumeParams(), raid, {}, 0.0))
    assert (degraded[0].state, degraded[0].summary) == (State.CRIT, "degraded")
    assert "RAID-5 'vms' 2.9T" in degraded[0].details


def test_a_partially_degraded_raid6_can_lose_one_more() -> None:
    raid = controller(extra=("mfi0 Volumes:", "  Id     Size    Level   Stripe        State        Cache   Name",
                             " mfid2 (  5.4T) RAID-6      64K PARTIALLY DEGRADED Enabled "))
    found = results(check_volume("c0/mfid2", VolumeParams(), raid, {}, 0.0))
    assert (found[0].state, found[0].summary) == (State.WARN, "partially degraded")


def test_drives_by_enclosure_and_slot_with_mfiutils_states() -> None:
    raid = controller("mfiutil_show_drives/unconfigured_good_after_swap.txt")
    assert {item: pd.state for item, pd in raid.pds.items()} == {"c0/e1/s0": "UGood", "c0/e1/s1": "Onln"}
    assert results(check_drive("c0/e1/s1", DriveParams(), raid, {}, 0.0))[0].state == State.OK
    failed = controller(extra=("mfi0 Physical Drives:",
                               " 2 (  932G) FAILED <MM1000GBKAL HPGC serial=9XG271GX> SATA E1:S2"))
    assert results(check_drive("c0/e1/s2", DriveParams(), failed, {}, 0.0))[0].state == State.CRIT


def test_a_state_mfiutil_prints_as_a_number_is_unknown_not_ok() -> None:
    raid = controller(extra=("mfi0 Volumes:", " mfid0 (   32G) RAID-1      64K LSTATE 0x05 Enabled "))
    found = results(check_volume("c0/mfid0", VolumeParams(), raid, {}, 0.0))
    assert found[0].state == State.UNKNOWN and "LSTATE 0x05" in found[0].summary


def test_the_battery_normal_and_a_missing_pack() -> None:
    raid = controller("mfiutil_show_battery/source_format_normal.txt")
    assert results(check_battery("c0", NoParams(), raid, {}, 0.0))[0].summary == "BBU CVPM02: optimal"
    lines = (OUTPUTS / "mfiutil_show_battery/source_format_normal.txt").read_text().replace(
        "Status: normal", "Status: PACK_MISSING, VOLTAGE_LOW").splitlines()
    missing = controller(extra=tuple(lines))
    assert results(check_battery("c0", NoParams(), missing, {}, 0.0))[0].state == State.CRIT


def test_a_damaged_line_of_fifty_thousand_blanks_is_skipped_and_said() -> None:
    lines = (OUTPUTS / "mfiutil_show_drives/unconfigured_good_after_swap.txt").read_text().splitlines()
    raid = controller(extra=(lines[0], lines[2] + "\t" * 50_000, lines[1]))
    assert list(raid.pds) == ["c0/e1/s0"]
    assert raid.errors == [f"mfiutil printed a line of {len(lines[2]) + 50_000} characters; it was skipped"]
