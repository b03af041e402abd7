"""Pending APT updates, from `<<<apt:sep(0)>>>`: the simulated upgrade's `Inst` lines.

    Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
    Inst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])
    No updates pending for installation

(the output of `apt-get -s -qq upgrade`, as Checkmk's mk_apt plugin sends it; our agent runs
`dist-upgrade`, so kernel updates that pull in a new package are seen too, and adds
`ListsUpdated: EPOCH`, when apt's package lists were last fetched). An update is a security
update when one of the archives offering it is a security archive. Security updates warn once
the oldest has waited longer than a level (3 days by default, counted from when this service
first saw it pending), the others are told but not judged; the default notification rule puts
these WARNs into a daily digest. Package lists older than a week warn: updates published since
are invisible, which would otherwise read as "no updates pending".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    Result,
    SectionUnparsed,
    Service,
    State,
    StringTable,
    ValueStore,
    render,
)

INSTALLED_KEPT_S = 30 * 86400.0
_INST = re.compile(r"^Inst (\S+)(?: \[([^\]]*)\])? \((\S+) (.*?)(?: \[[^\]]*\])?\)")


@dataclass(frozen=True, slots=True)
class Update:
    package: str
    installed: str
    candidate: str
    archives: tuple[str, ...]
    security: bool = field(init=False)
    """One of the archives offering it is a security archive (worked out once, when parsed)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "security", any("security" in archive.lower() for archive in self.archives))


@dataclass(slots=True)
class PendingUpdates:
    updates: list[Update] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lists_updated: float | None = None
    kinds: tuple[list[str], list[str], str] | None = field(default=None, repr=False, compare=False)
    """The packages of security updates, of the others, and a digest of every update (package,
    candidate, kind): worked out by the parser, once per text (the section is parsed again only
    when its text changes, and a host's list stays the same for days)."""

    def settle(self) -> PendingUpdates:
        """Work out `kinds`, by the parser, once every update is read."""
        self.kinds = _kinds(self.updates)
        return self

    def sorted_out(self) -> tuple[list[str], list[str], str]:
        """`kinds`, or worked out now for a value no parser made (checks never change a section)."""
        return self.kinds if self.kinds is not None else _kinds(self.updates)


def _kinds(updates: list[Update]) -> tuple[list[str], list[str], str]:
    return ([update.package for update in updates if update.security],
            [update.package for update in updates if not update.security],
            hashlib.blake2b("\n".join(f"{update.package} {update.candidate} {update.security}"
                                       for update in updates).encode(), digest_size=16).hexdigest())


@dataclass(frozen=True, slots=True)
class AptParams:
    security_state: int = int(State.WARN)
    """State once security updates have waited longer than security_wait_s (0-3)."""
    security_wait_s: float = 3 * 86400.0
    """How long a security update may wait before it is judged (seconds)."""
    lists_max_age_s: float = 7 * 86400.0
    """Package lists older than this WARN: updates published since are not seen (seconds)."""
    other_state: int = int(State.OK)
    """State while other updates wait (0-3)."""


def parse_apt(table: StringTable) -> PendingUpdates:
    pending = PendingUpdates()
    understood = False
    for row in table:
        line = " ".join(row).strip()
        if not line:
            continue
        found = _INST.match(line)
        if found:
            archives = tuple(part.strip() for part in found.group(4).split(","))
            pending.updates.append(Update(found.group(1), found.group(2) or "", found.group(3), archives))
            understood = True
        elif line.startswith("Remv "):
            pending.removals.append(line.split()[1] if len(line.split()) > 1 else line)
            understood = True
        elif line.startswith("No updates pending"):
            understood = True
        elif line.startswith("ListsUpdated:"):
            stamp = line.partition(":")[2].strip()
            pending.lists_updated = float(stamp) if stamp.isdecimal() and len(stamp) < 12 else None
        elif line.startswith(("E:", "W:", "Err:")) or "error" in line.lower():
            pending.errors.append(line[:300])
    if not understood and not pending.errors:
        raise SectionUnparsed(f"no `Inst` line and no 'No updates pending': {' '.join(table[0])[:100]!r}"
                              if table else "the section is empty")
    return pending.settle()


def discover_apt(section: PendingUpdates) -> DiscoveryResult:
    yield Service()


def check_apt(item: str, params: AptParams, section: PendingUpdates, store: ValueStore, now: float) -> CheckResult:
    security, other, signature = section.sorted_out()
    for error in section.errors[:1]:
        yield Result(State.UNKNOWN, f"apt reports: {error}", details="\n".join(section.errors))
    if not section.updates:
        yield Result(State.OK, "no updates pending")
    # apt failed and listed nothing: what was pending is not known, so nothing counts as installed
    waited = _remembered_wait(store, section.updates, signature, now) if section.updates or not section.errors else 0.0
    if security:
        late = waited > params.security_wait_s
        yield Result(State(params.security_state) if late else State.OK,
                     f"{len(security)} security updates: {render.listing(security)}; the oldest waits "
                     f"{render.timespan(waited)}" + (f" (more than {render.timespan(params.security_wait_s)})"
                                                      if late else ""),
                     details="Security updates: " + ", ".join(security))
    if other:
        yield Result(State(params.other_state), f"{len(other)} other updates: {render.listing(other)}",
                     details="Other updates: " + ", ".join(other))
    if section.removals:
        yield Result(State.OK, f"the upgrade would remove {len(section.removals)} packages",
                     details="Removed by the upgrade: " + ", ".join(section.removals))
    if section.lists_updated is not None and now - section.lists_updated > params.lists_max_age_s:
        yield Result(State.WARN, f"apt's package lists were last updated {render.timespan(now - section.lists_updated)}"
                     " ago: updates published since are not seen; is apt-daily.timer (or your apt-get update) "
                     "running?")
    yield Metric("apt_security_updates", len(security))
    yield Metric("apt_other_updates", len(other))


REMEMBERED_S = 3600.0
"""How long an unchanged list of updates is taken as remembered before it is gone through again
(to let recently installed versions expire)."""


def _remembered_wait(store: ValueStore, updates: list[Update], signature: str, now: float) -> float:
    """`remember_updates`, skipped while the list is the one remembered within the last hour:
    a host with a hundred pending updates would otherwise rewrite them all on every check."""
    oldest, since = store.get("apt.oldest_security"), store.get("apt.remembered_at")
    if (store.get("apt.signature") == signature and isinstance(oldest, (int, float))
            and isinstance(since, (int, float)) and 0 <= now - since < REMEMBERED_S):
        return max(now - float(oldest), 0.0)
    waited = remember_updates(store, updates, now)
    store["apt.signature"], store["apt.remembered_at"], store["apt.oldest_security"] = signature, now, now - waited
    return waited


def remember_updates(store: ValueStore, updates: list[Update], now: float) -> float:
    """Keep what the patch plan reads, and return how long the oldest security update waits.

    `pending.PACKAGE` = [candidate version, security, first seen pending]; a package that was
    pending and no longer is becomes `installed.PACKAGE` = [that version, when it went], kept
    for INSTALLED_KEPT_S: the host is then a canary for the version."""
    pending = {update.package: update for update in updates}
    for key in [key for key in store if key.startswith("pending.")]:
        package, kept = key[len("pending."):], store[key]
        if package not in pending:
            del store[key]
            if isinstance(kept, list) and kept:
                store[f"installed.{package}"] = [kept[0], now]
    for key in [key for key in store if key.startswith("installed.")]:
        kept = store[key]
        if not isinstance(kept, list) or len(kept) < 2 or not isinstance(kept[1], (int, float)) or (
                now - kept[1] > INSTALLED_KEPT_S) or key[len("installed."):] in pending:
            del store[key]
    oldest = now
    for package, update in pending.items():
        kept = store.get(f"pending.{package}")
        first = kept[2] if isinstance(kept, list) and len(kept) == 3 and isinstance(kept[2], (int, float)) else now
        store[f"pending.{package}"] = [update.candidate, update.security, first]
        if update.security:
            oldest = min(oldest, float(first))
    return max(now - oldest, 0.0)



apt_section = AgentSection("apt", parse_apt)

apt_updates = CheckPlugin(
    name="apt",
    section="apt",
    title="APT updates",
    discover=discover_apt,
    check=check_apt,
    default_params=AptParams(),
)
