"""SMART checks on real smartctl outputs (JSON and text; ATA, SAS, NVMe, behind MegaRAID)
kept in fixtures/ with their sources, and the real smartctl in the agent on this machine."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import REPO, fixtures, missing
from watchkeeper.checkapi import StringTable, build_params
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.checking import collapse
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.smart.disks import DiskParams, smart_disks
from watchkeeper.plugins.smart.smartctl import Disk, parse_smart

FIXTURES = fixtures(__file__)

AGENT = REPO / "src" / "watchkeeper" / "agent" / "watchkeeper_agent.py"


def section(relative: str, device: str = "/dev/sdz", kind: str = "auto") -> dict[str, Disk]:
    """As the agent prints it: the device line, then the JSON on one line or the text."""
    text = (FIXTURES / relative).read_text()
    table: StringTable = [[f"[device {device} {kind}]"]]
    if text.lstrip().startswith("{"):
        table.append([json.dumps(json.loads(text))])
    else:
        table.extend([line] for line in text.splitlines() if line.strip())
    return parse_smart(table)


def discovered_check(disks: dict[str, Disk], params: dict[str, object] | None = None) -> Outcome:
    """Discover, then check with the facts of discovery, as the engine does."""
    (service,) = list(smart_disks.discover(disks))
    merged = build_params(DiskParams(), service.facts, params or {})
    return collapse(service.item, smart_disks.check(service.item, merged, disks, {}, 0.0))


def test_failing_ata_disk_is_crit_with_its_attribute_named() -> None:
    outcome = discovered_check(section("smartctl_json/ata_failing_reallocated_1975_usb.txt"))
    assert outcome.state == 2
    assert "SMART health: FAILED" in outcome.summary
    assert "failing now: Reallocated_Sector_Ct" in outcome.summary
    assert "8 pending sectors" in outcome.summary and "1975 reallocated sectors" in outcome.summary
    assert "Hitachi HDS721050DLE630 serial MSK423Y20S3HBC" in outcome.details


def test_disk_behind_megaraid_has_its_slot_in_the_item_and_warns_on_reallocated() -> None:
    disks = section("smartctl_json/megaraid_1_ata_reallocated_387.txt", "/dev/bus/0", "sat+megaraid,1")
    assert list(disks) == ["/dev/sda megaraid,1"]
    outcome = discovered_check(disks)
    assert outcome.state == 1 and "387 reallocated sectors" in outcome.summary
    accepted = discovered_check(disks, {"warn_on_any": False})
    assert accepted.state == 0 and "387 reallocated sectors, as at discovery" in accepted.summary


def test_new_damage_after_discovery_warns_even_when_old_damage_was_accepted() -> None:
    disks = section("smartctl_json/megaraid_1_ata_reallocated_387.txt")
    item = next(iter(disks))
    params = DiskParams(warn_on_any=False, reallocated=380.0, serial=disks[item].serial)
    outcome = collapse(item, smart_disks.check(item, params, disks, {}, 0.0))
    assert outcome.state == 1 and "387 reallocated sectors (+7 since discovery)" in outcome.summary


def test_sas_grown_defects_warn() -> None:
    outcome = discovered_check(section("smartctl_json/sas_grown_defects_56.txt"))
    assert outcome.state == 1 and "56 grown defects" in outcome.summary


def test_healthy_disks_are_ok_in_json_and_text() -> None:
    for relative in ("smartctl_json/ata_hdd_a_healthy.txt", "smartctl_json/ata_ssd_x_healthy.txt",
                     "smartctl/ata_sata_hdd_healthy.txt", "smartctl/megaraid_44_sas_hdd_healthy.txt",
                     "smartctl/sas_ssd_x_healthy.txt", "smartctl/nvme_healthy.txt"):
        outcome = discovered_check(section(relative))
        assert outcome.state == 0, (relative, outcome.summary)
        assert "SMART health: passed" in outcome.summary


def test_nvme_wear_and_temperature_from_text() -> None:
    outcome = discovered_check(section("smartctl/nvme_healthy.txt"))
    values = {m.name: m.value for m in outcome.metrics}
    assert values["smart_nvme_percentage_used"] == 28 and values["smart_temperature_celsius"] == 42
    worn = discovered_check(section("smartctl/nvme_healthy.txt"), {"nvme_percentage_used": [20, 90]})
    assert worn.state == 1 and "Wear: 28.00%" in worn.summary


def test_devices_without_smart_are_not_discovered() -> None:
    for relative in ("smartctl_json/raid_volume_intel_no_smart.txt", "smartctl/megaraid_virtual_drive_no_smart.txt",
                     "smartctl_json/open_failed_exit2.txt", "smartctl/virtio_vda_unavailable_json.txt",
                     "smartctl/virtio_vda_unavailable_plain.txt"):
        assert list(smart_disks.discover(section(relative))) == [], relative


def test_replaced_and_vanished_disks_are_reported() -> None:
    disks = section("smartctl_json/ata_hdd_a_healthy.txt")
    item = next(iter(disks))
    other = collapse(item, smart_disks.check(item, DiskParams(serial="OLD123"), disks, {}, 0.0))
    assert other.state == 1 and "was OLD123 at discovery" in other.summary
    gone = collapse(item, smart_disks.check("/dev/sdq", DiskParams(), disks, {}, 0.0))
    assert gone.state == 2 and "disk /dev/sdq is gone" in gone.summary


def test_unreadable_disk_after_discovery_is_unknown_with_smartctls_reason() -> None:
    disks = section("smartctl_json/open_failed_exit2.txt", "/dev/sda", "sat")
    outcome = collapse("/dev/sda", smart_disks.check("/dev/sda", DiskParams(), disks, {}, 0.0))
    assert outcome.state == 3 and "Open failed, Error=5" in outcome.summary


def test_a_json_list_field_holding_a_number_is_read_as_empty_not_a_crash() -> None:
    """Found by the parser fuzzer: smartctl's `messages` (and the attribute table) as a number."""
    real = json.loads((FIXTURES / "smartctl_json/open_failed_exit2.txt").read_text())
    real["smartctl"]["messages"] = 2
    real["ata_smart_attributes"] = {"table": 7}
    disks = parse_smart([["[device /dev/sda sat]"], [json.dumps(real)]])
    assert list(disks) == ["/dev/sda"] and disks["/dev/sda"].messages == []


def test_real_smartctl_in_the_agent() -> None:
    """On this machine smartctl may find no SMART device: then the section is empty, not an error."""
    if shutil.which("smartctl") is None:
        missing("smartctl (Debian package smartmontools)")
    output = subprocess.run([sys.executable, "-I", str(AGENT)], capture_output=True, timeout=120).stdout
    split = split_sections(output)
    assert "smart" in split.sections or b"<<<smart:sep(0)>>>" in output
    disks = parse_smart(split.sections.get("smart", []))
    scan = subprocess.run(["smartctl", "--scan-open", "--json"], capture_output=True, text=True, timeout=60)
    expected = {d["name"] for d in json.loads(scan.stdout).get("devices", [])}
    assert {item.split()[0] for item in disks} <= expected
    assert b"FailedCollectors" not in output or b"storage_smart" not in output


@given(st.lists(st.text(max_size=100), max_size=30))
def test_parser_never_raises(lines: list[str]) -> None:
    for table in ([[line] for line in lines], [["[device /dev/sda sat]"], *([line] for line in lines)]):
        disks = parse_smart(table)
        for item in disks:
            list(smart_disks.check(item, DiskParams(), disks, {}, 0.0))


@given(st.integers(min_value=0, max_value=6000))
def test_truncated_json_becomes_a_clear_error(cut: int) -> None:
    text = json.dumps(json.loads((FIXTURES / "smartctl_json/megaraid_1_ata_reallocated_387.txt").read_text()))[:cut]
    disks = parse_smart([["[device /dev/sda sat]"], [text]])
    for item, disk in disks.items():
        outcome = collapse(item, smart_disks.check(item, DiskParams(), disks, {}, 0.0))
        assert outcome.state in (0, 1, 2, 3)
        if disk.passed is None and not disk.standby:
            assert outcome.state == 3
