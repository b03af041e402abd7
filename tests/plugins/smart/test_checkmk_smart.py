"""The Checkmk agent's `smart` plugin sends no health verdict, only the attribute rows of
`smartctl -A` behind the disk's name, vendor and model (NVMe: a name line, then the health
lines). Real `smartctl` outputs put through the plugin's own filters give the same attributes
as our section; the plugin's example in Checkmk's source is read as well."""

from __future__ import annotations

import subprocess

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, outcomes
from watchkeeper.checkapi import State
from watchkeeper.plugins.smart.smartctl import parse_checkmk_smart, parse_smart

FIXTURES = fixtures(__file__)
ATA = FIXTURES / "smartctl" / "ata_sata_hdd_healthy.txt"
NVME = FIXTURES / "smartctl" / "nvme_healthy.txt"


def through_the_plugin(path: str, prefix: str) -> bytes:
    """The plugin's pipeline for an ATA disk: rows updated `Always`, no temperature 190, the
    disk's name, vendor and model in front."""
    shell = ("grep Always \"$1\" | grep -v -E '^190(.*)Temperature(.*)' | sed \"s|^|$2 |\"")
    return subprocess.run(["sh", "-c", shell, "sh", path, prefix], capture_output=True, check=True).stdout


def test_ata_attributes_through_the_plugin_match_our_reading_of_the_same_disk() -> None:
    raw = b"<<<smart>>>\n" + through_the_plugin(str(ATA), "OOS12000G_00008AXB ATA OOS12000G")
    theirs = parse_smart([line.split() for line in raw.decode().splitlines()[1:]])
    disk = theirs["OOS12000G_00008AXB"]
    mine = parse_smart([["[device /dev/sdz ata]"], *([line] for line in ATA.read_text().splitlines())])["/dev/sdz"]
    assert (disk.reallocated, disk.pending, disk.temperature) == (mine.reallocated, mine.pending, mine.temperature)
    assert disk.passed is True and disk.model == "OOS12000G"
    seen = outcomes(raw)
    assert seen["SMART OOS12000G_00008AXB"].state == State.OK, seen["SMART OOS12000G_00008AXB"].summary


def test_nvme_health_lines_after_the_plugins_cut() -> None:
    lines = NVME.read_text().splitlines()
    start = lines.index("SMART/Health Information (NVMe Log 0x02)") + 1
    health = [line for line in lines[start:] if line.strip()]
    table = [["/dev/nvme0n1", "NVME", "KBG30ZMV256G_TOSHIBA"], *(line.split() for line in health)]
    disk = parse_checkmk_smart(table)["/dev/nvme0n1"]
    assert (disk.protocol, disk.temperature, disk.nvme_percentage_used, disk.nvme_available_spare) == \
           ("NVMe", 42.0, 28.0, 100.0)
    assert disk.nvme_critical_warning == 0 and disk.nvme_media_errors == 0


def test_the_plugins_example_from_checkmks_source() -> None:
    rows = [line.split() for line in (FIXTURES / "checkmk_smart" / "wdc_ssc_d0128sc_2100.txt").read_text().splitlines()]
    disk = parse_checkmk_smart(rows)["/dev/sda"]
    assert (disk.reallocated, disk.pending, disk.temperature) == (0.0, 0.0, 40.0)


@given(st.lists(st.lists(st.text(min_size=1, max_size=30).filter(lambda s: not s.isspace() and " " not in s),
                         min_size=1, max_size=16), max_size=30))
def test_any_rows_are_read_without_an_exception(rows: list[list[str]]) -> None:
    parse_checkmk_smart(rows)
