"""Parse /proc/mdstat: Watchkeeper's `<<<mdstat:sep(0)>>>` (one line per row, indentation kept)
and the Checkmk agent's `<<<md>>>` (the same file split at whitespace, indentation lost).

An array is a header line (`md0 : active raid1 sdb1[1](F) sda1[0]`) and the lines after it:
the size line with `[total/up] [U_]`, a progress line (`recovery = 8.5% (…) finish=17.0min
speed=259783K/sec`) or `resync=DELAYED`, and `bitmap:`. Without indentation a detail line is
any line up to the next header, `Personalities` or `unused devices` line. Nothing here raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from watchkeeper.checkapi import AgentSection, StringTable

_HEADER = re.compile(r"^(md[\w/]*)\s*:\s*(active|inactive)\b(.*)$")
_MEMBER = re.compile(r"^(\S+?)\[(\d{1,6})\]((?:\([A-Z]\))*)$")
_COUNTS = re.compile(r"\[(\d{1,6})/(\d{1,6})\]\s+\[([U_]+)\]")
_PROGRESS = re.compile(r"\b(recovery|resync|reshape|check|repair)\s*=\s*(\d{1,3}(?:\.\d{1,6})?)%"
                       r"(?:.*?finish=(\d{1,12}(?:\.\d{1,6})?)min)?(?:.*?speed=(\d{1,15})K/sec)?")
_WAITING = re.compile(r"\b(resync|recovery|reshape|check)=(DELAYED|PENDING|REMOTE)\b")
LEVELS = frozenset("linear multipath faulty raid0 raid1 raid4 raid5 raid6 raid10".split())


@dataclass(slots=True)
class Member:
    name: str
    slot: int
    flags: str
    """`F` failed, `S` spare, `W` write-mostly, `R` replacement, `J` journal."""


@dataclass(slots=True)
class Array:
    name: str
    active: bool
    level: str = ""
    read_only: str = ""
    members: list[Member] = field(default_factory=list)
    total: int | None = None
    up: int | None = None
    slots: str = ""
    external: str = ""
    action: str = ""
    percent_done: float | None = None
    minutes_left: float | None = None
    speed_kib_s: float | None = None
    waiting: str = ""

    @property
    def container(self) -> bool:
        """An IMSM/DDF container holds the member disks of firmware RAID volumes: not an array to judge."""
        return self.external.startswith("external:") and "/" not in self.external and not self.level

    @property
    def missing(self) -> int:
        return max(0, (self.total or 0) - (self.up or 0)) if self.total is not None else 0

    def failed(self) -> list[Member]:
        return [member for member in self.members if "F" in member.flags]

    def spares(self) -> list[Member]:
        return [member for member in self.members if "S" in member.flags]


def parse_mdstat(table: StringTable) -> dict[str, Array]:
    return _arrays((row[0] if row else "", None) for row in table)


def parse_md(table: StringTable) -> dict[str, Array]:
    """Checkmk's `<<<md>>>`: rows of words; a line belongs to the array above it until a line
    that starts something else."""
    return _arrays((" ".join(row), not row or row[0] not in ("Personalities", "unused")) for row in table)


def _arrays(lines: Iterable[tuple[str, bool | None]]) -> dict[str, Array]:
    """(line, is a detail line); None: decide by the line's indentation."""
    arrays: dict[str, Array] = {}
    current: Array | None = None
    for line, detail in lines:
        header = _HEADER.match(line)
        if header:
            current = _header(header)
            arrays[current.name] = current
            continue
        if detail is None:
            detail = line[:1].isspace()
        if current is None or not detail:
            current = None if line.strip() and not detail else current
            continue
        _detail(current, line)
    return arrays


def _header(found: re.Match[str]) -> Array:
    array = Array(found.group(1), found.group(2) == "active")
    for word in found.group(3).split():
        if word.startswith("(") and word.endswith(")"):
            array.read_only = word[1:-1]
        elif word in LEVELS and not array.members:
            array.level = word
        else:
            member = _MEMBER.match(word)
            if member:
                array.members.append(Member(member.group(1), int(member.group(2)),
                                            member.group(3).replace("(", "").replace(")", "")))
    return array


def _detail(array: Array, line: str) -> None:
    counts = _COUNTS.search(line)
    if counts:
        array.total, array.up, array.slots = int(counts.group(1)), int(counts.group(2)), counts.group(3)
    external = re.search(r"super (external:\S+)", line)
    if external:
        array.external = external.group(1)
    progress = _PROGRESS.search(line)
    if progress:
        array.action, array.percent_done = progress.group(1), float(progress.group(2))
        array.minutes_left = float(progress.group(3)) if progress.group(3) else None
        array.speed_kib_s = float(progress.group(4)) if progress.group(4) else None
    waiting = _WAITING.search(line)
    if waiting:
        array.waiting = f"{waiting.group(1)} {waiting.group(2).lower()}"


mdstat_section = AgentSection("mdstat", parse_mdstat)
md_section = AgentSection("md", parse_md, parsed_section="mdstat")
