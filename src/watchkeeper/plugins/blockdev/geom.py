"""Block devices on FreeBSD from `<<<geom_disks>>>`: `geom disk list`, one block per disk.

    Geom name: ada3
    Providers:
    1. Name: ada3
       Mediasize: 40018599936 (37G)
       Sectorsize: 512
       descr: Corsair CSSD-F40GB2
       lunid: 5000000000000236
       ident: 111465010000101800EC

Each disk's size (Mediasize, in bytes), ident (serial), lunid (WWN) and descr (model) feed the
same identity check as lsblk on Linux: `mfid0` that was the 32 GB OS LUN and is now the
3.2 TB VM LUN is CRIT before an installer or `newfs` writes to it. A MegaRAID volume has no
serial, so the `megaraid` section's mfiutil volume list (read as a companion) gives an `mfidN`
its RAID level and volume name as its label: two LUNs of one size are still told apart.

    <<<megaraid>>>
    [mfiutil]
     mfid0 (   32G) RAID-1      64K OPTIMAL  Enabled  <os>
"""

from __future__ import annotations

import re

from watchkeeper.checkapi import AgentSection, StringTable, to_int
from watchkeeper.plugins.blockdev.lsblk import BlockDevice

_MFI_VOLUME = re.compile(r"^\s{0,8}(mfid\d{1,4}) \([^)]{0,12}\) (\S{1,20}) .{0,80}?(?: <([^>]{0,64})>)?\s*$")

FIELDS = {"Mediasize": "size", "descr": "model", "ident": "serial", "lunid": "wwn"}


def _device(name: str, facts: dict[str, str], volume: str | None = None) -> BlockDevice:
    size = to_int(facts.get("size", "").split(" ", 1)[0])

    def text(key: str) -> str | None:
        value = facts.get(key, "").strip()
        return value if value and value != "(null)" else None

    return BlockDevice(name=name, type="disk", size_bytes=size if size and size > 0 else None,
                       serial=text("serial"), wwn=text("wwn"), model=text("model"), label=volume, fs_type=None,
                       uuid=None, mountpoint=None)


def _mfi_volumes(rows: StringTable) -> dict[str, str]:
    """`mfid0` -> `RAID-1 os` from mfiutil's volume rows (each at most a short line)."""
    volumes: dict[str, str] = {}
    for row in rows:
        line = row[0] if row else ""
        found = _MFI_VOLUME.match(line) if len(line) < 200 else None
        if found is not None:
            volumes[found.group(1)] = " ".join(part for part in (found.group(2), found.group(3)) if part)
    return volumes


def parse_geom_disks(table: StringTable) -> dict[str, BlockDevice] | None:
    split = next((index for index, row in enumerate(table) if row == ["<<<megaraid>>>"]), len(table))
    volumes = _mfi_volumes(table[split + 1:])
    disks: dict[str, BlockDevice] = {}
    name = ""
    facts: dict[str, str] = {}
    for row in table[:split]:
        key, colon, value = (row[0] if row else "").strip().partition(": ")
        if not colon:
            continue
        if key == "Geom name":
            if name:
                disks[name] = _device(name, facts, volumes.get(name))
            name, facts = value.strip(), {}
        elif key in FIELDS and name:
            facts.setdefault(FIELDS[key], value)
    if name:
        disks[name] = _device(name, facts, volumes.get(name))
    return disks or None


geom_disks_section = AgentSection("geom_disks", parse_geom_disks, parsed_section="lsblk", companions=("megaraid",))
