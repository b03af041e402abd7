"""Parse the `lvm` section: `vgs`, `pvs` and `lvs -a` JSON reports in bytes, one per line
(`vgs {"report": ...}`), then lvm's warnings (`watchkeeper-warning: VG x is missing PV ...`).

lvm prints every value as a string; an empty string means "not known" (a thin pool that is
not active has no data%). Nothing here raises on odd input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchkeeper.checkapi import AgentSection, StringTable, load_json, to_float


@dataclass(slots=True)
class VolumeGroup:
    name: str
    attr: str
    size_bytes: float
    free_bytes: float
    pv_count: int
    lv_count: int
    missing_pv_count: int

    @property
    def partial(self) -> bool:
        """`wz-pn-`: the fourth attribute character says a PV is missing."""
        return len(self.attr) > 3 and self.attr[3] == "p"


@dataclass(slots=True)
class PhysicalVolume:
    name: str
    vg: str
    attr: str
    size_bytes: float
    free_bytes: float
    missing: bool
    uuid: str


@dataclass(slots=True)
class LogicalVolume:
    vg: str
    name: str
    attr: str
    size_bytes: float
    data_percent: float | None
    metadata_percent: float | None
    pool: str
    origin: str
    metadata_bytes: float | None
    health: str

    @property
    def kind(self) -> str:
        """The first attribute character: `t` thin pool, `V` thin volume, `s` snapshot, `-` plain…"""
        return self.attr[:1]

    @property
    def volume_health(self) -> str:
        """The ninth attribute character: `p` partial, `r` refresh needed, `m` mismatches, `X` unknown."""
        return self.attr[8] if len(self.attr) > 8 else "-"

    @property
    def hidden(self) -> bool:
        return self.name.startswith("[")


@dataclass(slots=True)
class Lvm:
    vgs: dict[str, VolumeGroup] = field(default_factory=dict)
    pvs: list[PhysicalVolume] = field(default_factory=list)
    lvs: list[LogicalVolume] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def thin_pools(self) -> dict[str, LogicalVolume]:
        return {f"{lv.vg}/{lv.name}": lv for lv in self.lvs if lv.kind == "t"}


def parse_lvm(table: StringTable) -> Lvm | None:
    if not table:
        return None
    lvm = Lvm()
    for row in table:
        line = row[0] if row else ""
        command, _, rest = line.partition(" ")
        if command == "watchkeeper-warning:":
            lvm.warnings.append(rest.strip())
        elif command == "watchkeeper-error:":
            lvm.errors.append(rest.strip())
        elif command in ("vgs", "pvs", "lvs"):
            for entry in _entries(rest, command[:2]):
                _read(lvm, command, entry)
    return lvm


def _entries(text: str, key: str) -> list[dict[str, Any]]:
    report = load_json(text)
    try:
        found = [entry for part in report["report"] for entry in part.get(key, [])]
    except (KeyError, TypeError, AttributeError):
        return []
    return [entry for entry in found if isinstance(entry, dict)]


def _number(value: Any) -> float | None:
    return to_float(str(value).strip().rstrip("Bb"))


def _read(lvm: Lvm, command: str, entry: dict[str, Any]) -> None:
    text = {key: str(value) for key, value in entry.items()}
    if command == "vgs" and text.get("vg_name"):
        lvm.vgs[text["vg_name"]] = VolumeGroup(
            text["vg_name"], text.get("vg_attr", ""), _number(text.get("vg_size")) or 0.0,
            _number(text.get("vg_free")) or 0.0, int(_number(text.get("pv_count")) or 0),
            int(_number(text.get("lv_count")) or 0), int(_number(text.get("vg_missing_pv_count")) or 0))
    elif command == "pvs" and text.get("pv_name"):
        attr = text.get("pv_attr", "")
        lvm.pvs.append(PhysicalVolume(
            text["pv_name"], text.get("vg_name", ""), attr, _number(text.get("pv_size")) or 0.0,
            _number(text.get("pv_free")) or 0.0, text.get("pv_missing") == "missing" or attr[2:3] == "m",
            text.get("pv_uuid", "")))
    elif command == "lvs" and text.get("lv_name"):
        lvm.lvs.append(LogicalVolume(
            text.get("vg_name", ""), text["lv_name"], text.get("lv_attr", ""), _number(text.get("lv_size")) or 0.0,
            _number(text.get("data_percent")), _number(text.get("metadata_percent")), text.get("pool_lv", ""),
            text.get("origin", ""), _number(text.get("lv_metadata_size")), text.get("lv_health_status", "")))


lvm_section = AgentSection("lvm", parse_lvm)
