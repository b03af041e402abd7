"""`Unmerged configuration`, from `<<<config_unmerged:sep(9)>>>`: what a package upgrade (or a
merge by hand) left behind in /etc.

    marker	/etc/ssh/sshd_config	41
    leftover	/etc/default/grub.dpkg-dist	1796000000	1790000000
    leftover	/etc/nginx/nginx.conf.rpmnew	1796000000	-
    conflict	/etc/rc.conf
    warning	Needs update: /etc/mail/aliases.db (requires manual update via newaliases(1))
    scanned	1345	-	3

`marker`: a file with a `<<<<<<<` or `>>>>>>>` line (its first one's number), which the service
that reads it will choke on or silently misread; `leftover`: a `.dpkg-dist`, `.dpkg-new`,
`.dpkg-old`, `.ucf-dist`, `.ucf-old`, `.rpmnew` or `.rpmsave` file newer than the file it
shadows (`-`: that file is gone), a maintainer's version nobody merged; `conflict` and `warning`:
FreeBSD's `etcupdate status` (a merge it left for `etcupdate resolve`, and what it asks to be
done by hand, which stays listed until the next update); `scanned`: files looked
at, why the scan stopped early (`files`, `bytes`, `time`; `-` when it did not) and how many
files it could not read (an agent that does not run as root). The agent
bounds the scan in files, bytes and time; a cut scan is told, not hidden.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Result,
    SectionUnparsed,
    Service,
    State,
    StringTable,
    ValueStore,
    render,
    to_float,
)


@dataclass(frozen=True, slots=True)
class Leftover:
    path: str
    modified: float | None
    shadowed_modified: float | None
    """None: the file it would replace is gone."""


@dataclass(slots=True)
class Unmerged:
    markers: dict[str, int] = field(default_factory=dict)
    leftovers: list[Leftover] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    scanned: int | None = None
    cut: str = ""
    unreadable: int = 0
    unread: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UnmergedParams:
    state: int = int(State.WARN)
    """State while something is left unmerged (0-3)."""
    ignore: tuple[str, ...] = ()
    """Shell patterns of paths that are left alone on purpose (`/etc/apt/*.ucf-old`)."""


def parse_config_unmerged(table: StringTable) -> Unmerged:
    found = Unmerged()
    for row in table:
        kind = row[0] if row else ""
        if kind == "marker" and len(row) >= 3:
            found.markers[row[1]] = int(row[2]) if row[2].isdecimal() and len(row[2]) < 10 else 0
        elif kind == "leftover" and len(row) >= 4:
            found.leftovers.append(Leftover(row[1], to_float(row[2]), to_float(row[3])))
        elif kind == "conflict" and len(row) >= 2:
            found.conflicts.append(row[1])
        elif kind == "warning" and len(row) >= 2:
            found.warnings.append(" ".join(row[1:]))
        elif kind == "scanned" and len(row) >= 3 and row[1].isdecimal() and len(row[1]) < 10:
            found.scanned, found.cut = int(row[1]), "" if row[2] == "-" else row[2]
            found.unreadable = int(row[3]) if len(row) > 3 and row[3].isdecimal() and len(row[3]) < 10 else 0
        elif row:
            found.unread.append(f"not a marker, leftover, conflict, warning or scanned line: {' '.join(row)[:200]}")
    if found.scanned is None:
        raise SectionUnparsed("no `scanned` line: the agent's scan of /etc did not finish")
    return found


def discover_config_unmerged(section: Unmerged) -> DiscoveryResult:
    yield Service()


def check_config_unmerged(item: str, params: UnmergedParams, section: Unmerged, store: ValueStore,
                          now: float) -> CheckResult:
    def wanted(path: str) -> bool:
        return not any(fnmatch.fnmatchcase(path, pattern) for pattern in params.ignore)

    markers = sorted(path for path in section.markers if wanted(path))
    leftovers = [leftover for leftover in section.leftovers if wanted(leftover.path)]
    conflicts = sorted(path for path in section.conflicts if wanted(path))
    if conflicts:
        yield Result(State(params.state), f"etcupdate left {len(conflicts)} conflicts to resolve: "
                     + render.listing(conflicts) + "; run `etcupdate resolve`",
                     details="Unresolved etcupdate merges: " + ", ".join(conflicts))
    if markers:
        yield Result(State(params.state), f"{len(markers)} files hold merge conflict markers: "
                     + render.listing([f"{path} (line {section.markers[path]})" for path in markers]),
                     details="Conflict markers (<<<<<<< or >>>>>>>) in: " + ", ".join(markers))
    if leftovers:
        described = [_describe(leftover, now) for leftover in leftovers]
        yield Result(State(params.state), f"{len(leftovers)} package leftovers newer than the file they shadow: "
                     + render.listing(described),
                     details="Merge each into its file (or delete it): " + "; ".join(described))
    if section.warnings:
        yield Result(State.OK, f"etcupdate asked for: {render.listing(section.warnings)}",
                     details="etcupdate's warnings from its last update: " + "; ".join(section.warnings))
    if not markers and not leftovers and not conflicts:
        ignored = len(section.markers) + len(section.leftovers) + len(section.conflicts)
        yield Result(State.OK, f"nothing left unmerged in {section.scanned} files"
                     + (f" ({ignored} ignored by rule)" if ignored else ""))
    if section.unreadable:
        yield Result(State.OK, f"{section.unreadable} files could not be read (is the agent running as root?)")
    if section.cut:
        reason = {"files": "its file limit", "bytes": "its byte limit", "time": "its time limit"}.get(
            section.cut, section.cut)
        yield Result(State.OK, f"the scan stopped at {reason} after {section.scanned} files; the rest was not read")


def _describe(leftover: Leftover, now: float) -> str:
    if leftover.shadowed_modified is None:
        return f"{leftover.path} (the file it belongs to is gone)"
    if leftover.modified is None:
        return leftover.path
    return f"{leftover.path} ({render.timespan(max(now - leftover.modified, 0.0))} old)"



config_unmerged_section = AgentSection("config_unmerged", parse_config_unmerged)

config_unmerged = CheckPlugin(
    name="config_unmerged",
    section="config_unmerged",
    title="Unmerged configuration",
    discover=discover_config_unmerged,
    check=check_config_unmerged,
    default_params=UnmergedParams(),
)
