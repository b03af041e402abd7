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
3.2 TB VM LUN is CRIT before an installer or `newfs` writes to it.
"""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, StringTable, to_int
from watchkeeper.plugins.blockdev.lsblk import BlockDevice

FIELDS = {"Mediasize": "size", "descr": "model", "ident": "serial", "lunid": "wwn"}


def _device(name: str, facts: dict[str, str]) -> BlockDevice:
    size = to_int(facts.get("size", "").split(" ", 1)[0])

    def text(key: str) -> str | None:
        value = facts.get(key, "").strip()
        return value if value and value != "(null)" else None

    return BlockDevice(name=name, type="disk", size_bytes=size if size and size > 0 else None,
                       serial=text("serial"), wwn=text("wwn"), model=text("model"), label=None, fs_type=None,
                       uuid=None, mountpoint=None)


def parse_geom_disks(table: StringTable) -> dict[str, BlockDevice] | None:
    disks: dict[str, BlockDevice] = {}
    name = ""
    facts: dict[str, str] = {}
    for row in table:
        key, colon, value = (row[0] if row else "").strip().partition(": ")
        if not colon:
            continue
        if key == "Geom name":
            if name:
                disks[name] = _device(name, facts)
            name, facts = value.strip(), {}
        elif key in FIELDS and name:
            facts.setdefault(FIELDS[key], value)
    if name:
        disks[name] = _device(name, facts)
    return disks or None


geom_disks_section = AgentSection("geom_disks", parse_geom_disks, parsed_section="lsblk")
