"""Per-path guarantees: every file below a configured path has its goal's copies.

The agent walks the path (bounded in files and time), asks `mfsgetgoal` and `mfscheckfile`
in batches, and reports the files below their goal (a capped list) as one JSON line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    NoParams,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    finite,
    load_json,
    to_int,
)

SHOWN = 5


@dataclass(frozen=True, slots=True)
class FileCopies:
    file: str
    goal: int | str
    """A number (MooseFS, LizardFS's numbered goals) or a LizardFS goal's name (`ec21`)."""
    copies: dict[int, int]
    """Chunks of the file by their number of valid copies."""
    lost_chunks: tuple[int, ...] = ()
    """Indexes of its chunks with no valid copy (fileinfo's "no valid copies"), where the agent asked."""

    @property
    def lowest(self) -> int:
        return min(self.copies, default=self.goal if isinstance(self.goal, int) else 1)


@dataclass(frozen=True, slots=True)
class PathReport:
    path: str
    files: int = 0
    checked: int = 0
    complete: bool = True
    under_goal: int = 0
    zero_copies: int = 0
    examples: list[FileCopies] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    product: str = "MooseFS"


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _report(raw: object) -> PathReport | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        return None
    examples = []
    for entry in _list(raw.get("examples")):
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            continue
        copies = entry.get("copies")
        counts = {number: _int(value) for key, value in copies.items()
                  if (number := to_int(str(key))) is not None} if isinstance(copies, dict) else {}
        goal = entry.get("goal")
        lost = tuple(_int(index) for index in _list(entry.get("lost_chunks"))[:20])
        examples.append(FileCopies(entry["file"], goal[:40] if isinstance(goal, str) else _int(goal), counts, lost))
    errors = [str(error)[:500] for error in _list(raw.get("errors"))[:20]]
    seconds = raw.get("seconds")
    return PathReport(
        path=raw["path"], files=_int(raw.get("files")), checked=_int(raw.get("checked")),
        complete=raw.get("complete") is not False, under_goal=_int(raw.get("under_goal")),
        zero_copies=_int(raw.get("zero_copies")), examples=examples, errors=errors,
        seconds=finite(seconds) or 0.0, product="LizardFS" if raw.get("product") == "LizardFS" else "MooseFS",
    )


def parse_moosefs_files(table: StringTable) -> dict[str, PathReport]:
    reports = {}
    for line in table:
        # a line cut short (output limit) loses only its own path
        report = _report(load_json(line[0])) if line else None
        if report is not None:
            reports[report.path] = report
    return reports


def discover_files(section: dict[str, PathReport]) -> DiscoveryResult:
    for path in section:
        yield Service(path)


def _names(files: list[FileCopies]) -> str:
    shown = ", ".join(entry.file for entry in files[:SHOWN])
    return shown + (f" and {len(files) - SHOWN} more" if len(files) > SHOWN else "")


def check_files(item: str, params: NoParams, section: dict[str, PathReport], store: ValueStore,
                now: float) -> CheckResult:
    report = section.get(item)
    if report is None:
        yield Result(State.UNKNOWN, f"{item} was not checked by the agent (is it still in the agent's paths?)")
        return
    zero = [entry for entry in report.examples if entry.lowest == 0]
    low = [entry for entry in report.examples if entry.lowest > 0]
    if report.zero_copies:
        yield Result(State.CRIT, f"{report.zero_copies} files have chunks with 0 copies: {_names(zero)}")
        yield Result(State.OK, "", details=(
            "Their data is unreadable until the chunkserver or disk that held the copies returns. "
            f"Do not run {'lizardfs filerepair' if report.product == 'LizardFS' else 'mfsfilerepair'} on them: "
            "it replaces the missing chunks with zeros for good."))
    below = report.under_goal - report.zero_copies
    if below:
        yield Result(State.WARN, f"{below} files have fewer copies than their goal: {_names(low)}")
    if not report.checked:
        reason = report.errors[0] if report.errors else "the path holds no files"
        yield Result(State.WARN if report.errors else State.OK, f"no files checked: {reason}")
        return
    if not report.under_goal:
        yield Result(State.OK, f"all {report.checked} files have their goal's copies")
    if not report.complete:
        yield Result(State.OK, f"checked {report.checked} of at least {report.files} files "
                     "(the agent's time or file limit)")
    if report.errors:
        yield Result(State.OK, f"{len(report.errors)} errors, first: {report.errors[0]}")
    yield Metric("mfs_files_checked", report.checked)
    yield Metric("mfs_files_under_goal", report.under_goal)
    yield Metric("mfs_files_zero_copies", report.zero_copies)
    yield Metric("mfs_files_check_seconds", report.seconds)
    lines = [f"{entry.file}: goal {entry.goal}, chunks by copies "
             + ", ".join(f"{copies}:{chunks}" for copies, chunks in sorted(entry.copies.items()))
             + (f"; no valid copy of chunk {', '.join(map(str, entry.lost_chunks))}" if entry.lost_chunks else "")
             for entry in report.examples]
    if lines:
        yield Result(State.OK, "", details="Files below goal (capped list):\n" + "\n".join(lines))


moosefs_files = CheckPlugin(
    name="moosefs_files",
    section="moosefs_files",
    title="MooseFS files %s",
    discover=discover_files,
    check=check_files,
    default_params=NoParams(),
)


moosefs_files_section = AgentSection("moosefs_files", parse_moosefs_files)
