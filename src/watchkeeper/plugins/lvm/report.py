"""Parse the `lvm` section: `vgs`, `pvs` and `lvs -a` JSON reports in bytes, one per line
(`vgs {"report": ...}`), then lvm's warnings (`watchkeeper-warning: VG x is missing PV ...`).
An LVM too old for JSON reports gives text ones, each after a `[vgs]`, `[pvs]` or `[lvs]`
line (see `text.py`); the Checkmk agent's `lvm` plugin sends `<<<lvm_vgs>>>` and
`<<<lvm_lvs:sep(124)>>>`, read into the same value.

lvm prints every value as a string; an empty string means "not known" (a thin pool that is
not active has no data%). Output in none of these forms is reported as unparsed, so the
volume groups never silently vanish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchkeeper.checkapi import AgentSection, SectionUnparsed, StringTable, load_json, to_float
from watchkeeper.plugins.lvm.text import DEFAULT_COLUMNS, rows_with_header, rows_without_header


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
    text_reports: dict[str, list[str]] = {}
    current: list[str] | None = None
    understood = False
    for row in table:
        line = row[0] if len(row) == 1 else " ".join(row)
        command, _, rest = line.partition(" ")
        if line.strip() in ("[vgs]", "[pvs]", "[lvs]"):
            current = text_reports.setdefault(line.strip()[1:-1], [])
        elif command == "watchkeeper-warning:":
            lvm.warnings.append(rest.strip())
        elif command == "watchkeeper-error:":
            lvm.errors.append(rest.strip())
        elif command in ("vgs", "pvs", "lvs") and rest.lstrip().startswith("{"):
            entries = _entries(rest, command[:2])
            understood = understood or entries is not None
            for entry in entries or []:
                _read(lvm, command, entry)
        elif line.strip().startswith("WARNING:"):
            lvm.warnings.append(line.strip()[len("WARNING:"):].strip())
        elif current is not None:
            current.append(line)
    for command, lines in text_reports.items():
        if any(line.split()[:1] in (["VG"], ["PV"], ["LV"]) for line in lines):
            entries = rows_with_header(command, lines)
        else:
            entries = rows_without_header(AGENT_COLUMNS[command], [line.split("|") for line in lines])
        understood = understood or bool(lines)
        for entry in entries:
            _read(lvm, command, entry)
    if lvm.vgs or lvm.pvs or lvm.lvs or lvm.errors or lvm.warnings:
        return lvm
    if understood:
        return None  # reports without any volume group: nothing to monitor
    shown = " ".join(table[0])[:100]
    raise SectionUnparsed(f"no vgs/pvs/lvs report in a form Watchkeeper reads (first line: {shown!r})")


AGENT_COLUMNS = {
    "vgs": ["vg_name", "vg_attr", "vg_size", "vg_free", "pv_count", "lv_count", "snap_count", "vg_missing_pv_count"],
    "pvs": ["pv_name", "vg_name", "pv_attr", "pv_size", "pv_free", "pv_missing", "pv_uuid"],
    "lvs": ["vg_name", "lv_name", "lv_attr", "lv_size", "data_percent", "metadata_percent", "pool_lv", "origin",
            "lv_metadata_size", "lv_health_status"],
}
"""The columns the agent asks for (`-o`), in its order, for reports without a header."""


def parse_checkmk_lvm(table: StringTable) -> Lvm | None:
    """`<<<lvm_vgs>>>` rows (`vgs --noheadings`, default columns), then `<<<lvm_lvs>>>` rows split at `|`."""
    lvm = Lvm()
    part = "vgs"
    for row in table:
        if len(row) == 1 and row[0] == "<<<lvm_lvs>>>":
            part = "lvs"
            continue
        fields = DEFAULT_COLUMNS[part]
        for entry in rows_without_header(fields, [row]):
            if part == "vgs" and "vg_attr" in entry:  # the default columns have no missing-PV count:
                entry["vg_missing_pv_count"] = "1" if entry["vg_attr"][3:4] == "p" else "0"
            _read(lvm, part, entry)
    return lvm if lvm.vgs or lvm.lvs else None


def _entries(text: str, key: str) -> list[dict[str, Any]] | None:
    """The report's entries; None when it is no report at all."""
    report = load_json(text)
    try:
        found = [entry for part in report["report"] for entry in part.get(key, [])]
    except (KeyError, TypeError, AttributeError):
        return None
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
lvm_vgs_section = AgentSection("lvm_vgs", parse_checkmk_lvm, parsed_section="lvm", companions=("lvm_lvs",))
