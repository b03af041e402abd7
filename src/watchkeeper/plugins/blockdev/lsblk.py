"""Block device identity from `<<<lsblk:sep(0)>>>`: `lsblk --json --bytes --output
NAME,KNAME,SIZE,SERIAL,WWN,MODEL,TYPE,MOUNTPOINT,FSTYPE,UUID,LABEL`.

    {"blockdevices": [{"name": "vda", "kname": "vda", "size": 274877906944,
                       "serial": null, "wwn": null, ..., "children": [...]}]}

Older util-linux prints sizes as strings; partitions nest as `children`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from watchkeeper.checkapi import AgentSection, StringTable, load_json, to_int


@dataclass(frozen=True, slots=True)
class BlockDevice:
    name: str
    type: str
    size_bytes: int | None
    serial: str | None
    wwn: str | None
    model: str | None
    label: str | None
    fs_type: str | None
    uuid: str | None
    mountpoint: str | None


def _text(entry: dict[str, object], key: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _size(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        return to_int(value)
    return None


def _walk(entries: object) -> Iterator[dict[str, object]]:
    if not isinstance(entries, list):
        return
    for entry in entries:
        if isinstance(entry, dict):
            yield entry
            yield from _walk(entry.get("children"))


def parse_lsblk(table: StringTable) -> dict[str, BlockDevice] | None:
    document = load_json("\n".join(row[0] for row in table if row))
    if not isinstance(document, dict):
        return None
    devices: dict[str, BlockDevice] = {}
    for entry in _walk(document.get("blockdevices")):
        name = _text(entry, "kname") or _text(entry, "name")
        if name is None or name in devices:
            continue
        devices[name] = BlockDevice(
            name=name,
            type=_text(entry, "type") or "",
            size_bytes=_size(entry.get("size")),
            serial=_text(entry, "serial"),
            wwn=_text(entry, "wwn"),
            model=_text(entry, "model"),
            label=_text(entry, "label"),
            fs_type=_text(entry, "fstype"),
            uuid=_text(entry, "uuid"),
            mountpoint=_text(entry, "mountpoint"),
        )
    return devices or None


lsblk_section = AgentSection("lsblk", parse_lsblk)
