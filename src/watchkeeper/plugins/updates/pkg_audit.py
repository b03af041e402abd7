"""`Vulnerable packages`: installed packages with known vulnerabilities, from `pkg audit -F`
(run by the agent in the background every hour, see `fetched`).

    vulnxml file up-to-date
    py39-setuptools-63.1.0 is vulnerable:
      py39-setuptools -- denial of service vulnerability
      CVE: CVE-2022-40897
      WWW: https://vuxml.FreeBSD.org/freebsd/1b38aec4-4149-4c7d-851c-3c4de3a1fbd0.html

    1 problem(s) in 1 installed package(s) found.

Each finding is named with its VuXML id (the WWW line), so a sysadmin looks it up in one step.
The number of vulnerable packages is judged against levels (WARN from one, CRIT from five).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    check_levels,
    render,
)
from watchkeeper.plugins.updates.fetched import Fetched, fetched_state, parse_fetched, run_failure

_VULNERABLE = re.compile(r"^(\S+) is vulnerable:$")
_SUMMARY = re.compile(r"^(\d{1,9}) problem\(s\) in (\d{1,9}) installed package\(s\) found\.$")
_VUXML = re.compile(r"/freebsd/([0-9a-f-]{36})\.html", re.IGNORECASE)


@dataclass(slots=True)
class Finding:
    package: str
    topics: list[str] = field(default_factory=list)
    cves: list[str] = field(default_factory=list)
    vuxml: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Audit:
    fetched: Fetched
    findings: dict[str, Finding] = field(default_factory=dict)
    summarised: bool = False
    error: str = ""


@dataclass(frozen=True, slots=True)
class AuditParams:
    vulnerable_packages: Levels | None = Fixed(warn=1, crit=5)


def parse_pkg_audit(table: StringTable) -> Audit:
    audit = Audit(parse_fetched(table))
    current: Finding | None = None
    for line in audit.fetched.lines:
        text = line.strip()
        vulnerable = _VULNERABLE.match(text)
        if vulnerable is not None:
            current = audit.findings.setdefault(vulnerable.group(1), Finding(vulnerable.group(1)))
        elif _SUMMARY.match(text) or text == "0 problem(s) in the installed packages found.":
            audit.summarised = True
        elif current is not None and text.startswith("CVE:"):
            current.cves.extend(text[4:].split())
        elif current is not None and text.startswith("WWW:"):
            current.vuxml.extend(_VUXML.findall(text))
        elif current is not None and " -- " in text:
            current.topics.append(text)
    audit.error = run_failure(audit.fetched, audit.summarised, "pkg audit -F")
    return audit


def discover_pkg_audit(section: Audit) -> DiscoveryResult:
    yield Service()


def check_pkg_audit(item: str, params: AuditParams, section: Audit, store: ValueStore, now: float) -> CheckResult:
    if not (yield from fetched_state(section.fetched, section.error, "pkg audit -F", now)):
        return
    names = sorted(section.findings)
    yield from check_levels(len(names), levels_upper=params.vulnerable_packages, metric_name="pkg_vulnerable",
                            label="vulnerable packages", render_func=lambda n: f"{n:.0f}")
    if names:
        yield Result(State.OK, render.listing(names), details="\n".join(
            f"{f.package}: {'; '.join(f.topics) or 'no description'}"
            + (f" ({', '.join(f.cves)})" if f.cves else "")
            + "".join(f" https://vuxml.freebsd.org/freebsd/{v}.html" for v in f.vuxml)
            for f in (section.findings[name] for name in names)))


pkg_audit_section = AgentSection("pkg_audit", parse_pkg_audit)

pkg_audit = CheckPlugin(
    name="pkg_audit",
    section="pkg_audit",
    title="Vulnerable packages",
    discover=discover_pkg_audit,
    check=check_pkg_audit,
    default_params=AuditParams(),
)
