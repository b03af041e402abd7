"""`Package updates` on FreeBSD: installed packages older than the repository's, from
`pkg version -vRL=` (run by the agent in the background every 6 hours, see `fetched`).

    Updating FreeBSD repository catalogue...
    FreeBSD repository is up-to-date.
    All repositories are up-to-date.
    bash-4.2.45                        <   needs updating (remote has 4.3.42_1)
    ntp-4.2.8p8_1                      >   succeeds port (port has 4.2.8p6)
    teTeX-base-3.0_25                  ?   orphaned: print/teTeX-base

`<` is an update waiting; `?` a package the repository no longer has (it gets no fixes any
more); `>` a package newer than the repository's. Vulnerable packages are the `pkg audit`
service's; this one says how far behind the host is.
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
    render,
)
from watchkeeper.plugins.updates.fetched import Fetched, fetched_state, parse_fetched, run_failure

_LINE = re.compile(r"^(\S+)\s+([<>=?!*])\s+(.*)$")
_REMOTE = re.compile(r"\((?:remote|port|index) has ([^)]+)\)")


@dataclass(frozen=True, slots=True)
class Outdated:
    package: str
    available: str


@dataclass(slots=True)
class PackageVersions:
    fetched: Fetched
    outdated: list[Outdated] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True, slots=True)
class PkgVersionParams:
    outdated_state: int = int(State.OK)
    """State while updates wait (security fixes are `Vulnerable packages`' to judge)."""
    orphaned_state: int = int(State.WARN)


def parse_pkg_version(table: StringTable) -> PackageVersions:
    found = PackageVersions(parse_fetched(table))
    understood = False
    for line in found.fetched.lines:
        matched = _LINE.match(line.strip())
        if matched is None:
            understood = understood or "up-to-date" in line or "catalogue" in line
            continue
        understood = True
        package, status, text = matched.groups()
        if status == "<":
            remote = _REMOTE.search(text)
            found.outdated.append(Outdated(package, remote.group(1) if remote else ""))
        elif status == "?":
            found.orphaned.append(package)
    found.error = run_failure(found.fetched, understood, "pkg version")
    return found


def discover_pkg_version(section: PackageVersions) -> DiscoveryResult:
    yield Service()


def check_pkg_version(item: str, params: PkgVersionParams, section: PackageVersions, store: ValueStore,
                      now: float) -> CheckResult:
    if not (yield from fetched_state(section.fetched, section.error, "pkg version", now)):
        return
    if section.outdated:
        yield Result(State(params.outdated_state), f"{len(section.outdated)} packages have updates: "
                     + render.listing([o.package for o in section.outdated]),
                     details="\n".join(f"{o.package} -> {o.available or '?'}" for o in section.outdated))
    else:
        yield Result(State.OK, "all packages are up to date with the repository")
    if section.orphaned:
        yield Result(State(params.orphaned_state), f"{len(section.orphaned)} packages are no longer in the "
                     f"repository and get no fixes: {render.listing(section.orphaned)}")
    yield Metric("pkg_outdated", len(section.outdated))


pkg_version_section = AgentSection("pkg_version", parse_pkg_version)

pkg_version = CheckPlugin(
    name="pkg_version",
    section="pkg_version",
    title="Package updates",
    discover=discover_pkg_version,
    check=check_pkg_version,
    default_params=PkgVersionParams(),
)
