"""What any of the controller tools tells: virtual drives, physical drives, batteries.

Items are written the way storcli addresses them: `c0/v1` for a virtual drive,
`c0/e252/s3` for a physical drive (`c0/s3` when it is not in an enclosure), `c0` for a
controller's battery or CacheVault.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import StringTable


@dataclass(slots=True)
class VirtualDrive:
    item: str
    group: str
    """The drive group (storcli `DG`); MegaCli does not tell it, so it stays empty there."""
    raid: str = ""
    state: str = ""
    name: str = ""
    size: str = ""
    write_policy: str = ""
    """Effective write policy now: WB, AWB or WT."""
    configured_write_policy: str = ""
    disk_cache: str = ""


@dataclass(slots=True)
class PhysicalDrive:
    item: str
    group: str = ""
    state: str = ""
    model: str = ""
    size: str = ""
    media_errors: float | None = None
    other_errors: float | None = None
    predictive_failures: float | None = None
    smart_alert: bool = False
    rebuild_percent: float | None = None
    rebuild_seconds_left: float | None = None


@dataclass(slots=True)
class Battery:
    item: str
    kind: str
    state: str = ""
    replacement_required: bool = False
    model: str = ""


@dataclass(slots=True)
class MegaRaid:
    vds: dict[str, VirtualDrive] = field(default_factory=dict)
    pds: dict[str, PhysicalDrive] = field(default_factory=dict)
    batteries: dict[str, Battery] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def pd(self, item: str) -> PhysicalDrive:
        return self.pds.setdefault(item, PhysicalDrive(item))


def write_policy(text: str) -> str:
    """`RWBD`, `NRWTD`, `RAWBC` (storcli) or `WriteBack, ReadAhead…` (MegaCli) -> WB, AWB or WT."""
    upper = text.upper()
    if "ALWAYS WRITEBACK" in upper or "AWB" in upper:
        return "AWB"
    if "WRITETHROUGH" in upper or "WT" in upper:
        return "WT"
    if "WRITEBACK" in upper or "WB" in upper:
        return "WB"
    return ""


def pd_item(controller: str, enclosure: str, slot: str) -> str:
    enclosure = enclosure.strip()
    return f"c{controller}/e{enclosure}/s{slot.strip()}" if enclosure and enclosure != " " else \
        f"c{controller}/s{slot.strip()}"


def blocks(table: StringTable) -> list[tuple[str, list[str]]]:
    """The section's `[storcli json]`, `[storcli text]`, `[megacli]` and `[mfiutil]` parts, in order."""
    found: list[tuple[str, list[str]]] = []
    for row in table:
        line = row[0] if row else ""
        stripped = line.strip()
        if stripped in ("[storcli json]", "[storcli text]", "[megacli]", "[mfiutil]"):
            found.append((stripped[1:-1], []))
        elif found:
            found[-1][1].append(line)
    return found
