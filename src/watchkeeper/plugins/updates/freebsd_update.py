"""`FreeBSD updates`: base-system patches waiting, and the release's end of life, from
`freebsd-update fetch` (run by the agent in the background every 6 hours, see `fetched`).

    No updates needed to update system to 13.1-RELEASE-p1.
    No updates are available to install.

    The following files will be updated as part of updating to 9.2-RELEASE-p17:
    /boot/kernel/linker.hints

    WARNING: FreeBSD 9.2-RELEASE-p15 HAS PASSED ITS END-OF-LIFE DATE.

The wording is freebsd-update.sh's (usr.sbin/freebsd-update: fetch_create_manifest and
fetch_warn_eol). Base-system patches are security and errata fixes: updates ready to install
are WARN; a release past its end of life gets no fixes at all and is CRIT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
)
from watchkeeper.plugins.updates.fetched import Fetched, fetched_state, parse_fetched, run_failure

_LISTING = re.compile(r"^The following files will be (added|updated|removed) as part of updating to\s*(\S*?):?$")
_EOL = re.compile(r"^WARNING: (.+?) (HAS PASSED ITS END-OF-LIFE DATE|is approaching its End-of-Life date)\.")


@dataclass(slots=True)
class BaseUpdates:
    fetched: Fetched
    target: str = ""
    files: dict[str, int] = field(default_factory=dict)
    """added / updated / removed -> number of files."""
    none_needed: bool = False
    end_of_life: str = ""
    eol_passed: bool = False
    error: str = ""


@dataclass(frozen=True, slots=True)
class FreebsdUpdateParams:
    updates_state: int = int(State.WARN)
    eol_passed_state: int = int(State.CRIT)


def parse_freebsd_update(table: StringTable) -> BaseUpdates:
    found = BaseUpdates(parse_fetched(table))
    listing = ""
    lines = found.fetched.lines
    for index, line in enumerate(lines):
        line = line.strip()
        if line.endswith("as part of updating to") and index + 1 < len(lines):
            line = f"{line} {lines[index + 1].strip()}"  # newer releases break the line before the version
        heading = _LISTING.match(line)
        eol = _EOL.match(line)
        if heading is not None:
            listing = heading.group(1)
            found.target = heading.group(2) or lines[index + 1].strip().rstrip(":")
            found.files.setdefault(listing, 0)
        elif line.startswith("/") and listing:
            found.files[listing] += 1
        elif eol is not None:
            found.end_of_life, found.eol_passed = eol.group(1), eol.group(2).startswith("HAS PASSED")
        elif line.startswith("No updates needed to update system to"):
            found.none_needed = True
        elif not line:
            listing = ""
    found.error = run_failure(found.fetched, bool(found.files or found.none_needed or found.end_of_life),
                              "freebsd-update fetch")
    return found


def discover_freebsd_update(section: BaseUpdates) -> DiscoveryResult:
    yield Service()


def check_freebsd_update(item: str, params: FreebsdUpdateParams, section: BaseUpdates, store: ValueStore,
                         now: float) -> CheckResult:
    if not (yield from fetched_state(section.fetched, section.error, "freebsd-update fetch", now)):
        return
    waiting = sum(section.files.values())
    if waiting:
        counts = ", ".join(f"{count} {kind}" for kind, count in section.files.items() if count)
        yield Result(State(params.updates_state), f"updates to {section.target or 'the next patch level'} are "
                     f"ready to install ({counts} files): run `freebsd-update install`")
    elif section.none_needed:
        yield Result(State.OK, "no base-system updates waiting")
    if section.end_of_life:
        if section.eol_passed:
            yield Result(State(params.eol_passed_state), f"{section.end_of_life} has passed its end of life: "
                         "security issues found since are not fixed; upgrade the release")
        else:
            yield Result(State.WARN, f"{section.end_of_life} is approaching its end of life: plan the upgrade")
    yield Metric("freebsd_update_files", waiting)


freebsd_update_section = AgentSection("freebsd_update", parse_freebsd_update)

freebsd_update = CheckPlugin(
    name="freebsd_update",
    section="freebsd_update",
    title="FreeBSD updates",
    discover=discover_freebsd_update,
    check=check_freebsd_update,
    default_params=FreebsdUpdateParams(),
)
