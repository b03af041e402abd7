"""`Backup files PATH`: the newest file below a directory that rsync, dump or `zfs send` write
to, by age (WARN 26 h, CRIT 50 h: a daily backup missed once, then twice); a newest file much
smaller than the usual newest ones (the median of the last sizes seen, at least three: less
than half WARNs); no file at all, or a directory that is gone, CRIT. A walk the agent had to cut
(too many entries, too long) and directories it could not read are said.

    <<<backup_files:sep(0)>>>
    {"path": "/srv/backup/db1", "pattern": "*.dump", "files": 12, "bytes": 5123456,
     "newest": "2026-11-30.dump", "newest_mtime": 1796000000.0, "newest_bytes": 431234}
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Metric,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    check_levels,
    finite,
    load_json,
    render,
    vanished,
)

HOUR = 3600.0
SIZES_KEPT = 10
USUAL = 3


@dataclass(frozen=True, slots=True)
class Target:
    path: str
    pattern: str = "*"
    files: int = 0
    bytes: int = 0
    newest: str = ""
    newest_mtime: float | None = None
    newest_bytes: int | None = None
    error: str = ""
    cut: str = ""
    unreadable: int = 0


@dataclass(slots=True)
class Targets:
    items: dict[str, Target] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)


def _count(value: object) -> int:
    number = finite(value)
    return int(number) if number is not None and 0 <= number < 2**63 else 0


def parse_backup_files(table: StringTable) -> Targets:
    found = Targets()
    for row in table:
        line = row[0] if row else ""
        data = load_json(line)
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            found.unread.append(f"not a target's line: {line[:200]}")
            continue
        mtime = finite(data.get("newest_mtime"))
        size = finite(data.get("newest_bytes"))
        found.items[data["path"]] = Target(
            data["path"], str(data.get("pattern") or "*"), _count(data.get("files")), _count(data.get("bytes")),
            str(data.get("newest") or "")[:500], mtime, int(size) if size is not None and size >= 0 else None,
            str(data.get("error") or "")[:500], str(data.get("cut") or "")[:200], _count(data.get("unreadable")))
    return found


@dataclass(frozen=True, slots=True)
class FilesParams:
    age_seconds: Fixed | None = Fixed(warn=26 * HOUR, crit=50 * HOUR)
    shrink_percent: float = 50.0
    cut_state: int = 1


def discover_targets(section: Targets) -> DiscoveryResult:
    for path in section.items:
        yield Service(path)


def check_target(item: str, params: FilesParams, section: Targets, store: ValueStore, now: float) -> CheckResult:
    target = section.items.get(item)
    if target is None:
        yield vanished(f"backup target {item}", [], "no longer in the agent's backup_files configuration")
        return
    if target.error:
        yield Result(State.CRIT, f"{target.path} {target.error}")
        return
    if target.cut:
        yield Result(State(params.cut_state), f"walk cut {target.cut}: the newest file may be beyond it")
    if target.unreadable:
        yield Result(State.WARN, f"{target.unreadable} directories could not be read")
    if target.newest_mtime is None:
        yield Result(State.CRIT, f"no file matching {target.pattern} below {target.path}")
        return
    yield Result(State.OK, f"newest {target.newest}, {target.files:,} files, {render.bytes_(target.bytes)}")
    yield from check_levels(max(0.0, now - target.newest_mtime), levels_upper=params.age_seconds,
                            metric_name="backup_age_seconds", label="age", render_func=render.timespan)
    yield Metric("backup_files_total", target.files)
    yield Metric("backup_target_bytes", target.bytes)
    if target.newest_bytes is None:
        return
    yield Metric("backup_bytes", target.newest_bytes)
    names, sizes = store.get("names"), store.get("sizes")
    earlier: list[tuple[str, float]] = []
    if isinstance(names, list) and isinstance(sizes, list):
        for name, size in zip(names, sizes, strict=False):
            number = finite(size)
            if number is not None:
                earlier.append((str(name), number))
    if not earlier or earlier[-1][0] != target.newest:  # a new newest file: its size joins the record
        earlier_kept = (earlier + [(target.newest, float(target.newest_bytes))])[-SIZES_KEPT:]
        store["names"] = [name for name, _ in earlier_kept]
        store["sizes"] = [size for _, size in earlier_kept]
    before = [size for name, size in earlier if name != target.newest]
    if len(before) >= USUAL:
        usual = statistics.median(before)
        share = 100.0 * target.newest_bytes / usual if usual > 0 else 100.0
        if share < params.shrink_percent:
            yield Result(State.WARN, f"{render.bytes_(target.newest_bytes)} is {share:.0f}% of the usual "
                         f"{render.bytes_(usual)}: was the backup cut short?")


backup_files_section = AgentSection("backup_files", parse_backup_files)

backup_files = CheckPlugin(name="backup_files", section="backup_files", title="Backup files %s",
                           discover=discover_targets, check=check_target, default_params=FilesParams())
