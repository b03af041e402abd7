"""`VM` on a VM's own host: its domain as its hypervisor sees it (state, size, CPU use,
disk and network throughput), also when nothing runs inside it to ask.

A hypervisor's `hypervisor` value speaks of each domain as piggyback data for a host named
like the domain: `<<<virt_domain:sep(0)>>>` and the domain as one JSON object. The VM's host
(address `piggyback`, or an agent of its own) reads it; a VM being migrated is listed by two
hypervisors for a moment, and the one where it runs is taken. The judgement is the one the
hypervisor's `VM NAME` service makes, against the state the domain had at discovery.
"""

from __future__ import annotations

from typing import Any

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    SectionUnparsed,
    Service,
    StringTable,
    ValueStore,
    load_json,
)
from watchkeeper.plugins.hypervisors.domains import RUNS, DomainParams, check_one_domain
from watchkeeper.plugins.hypervisors.node import GUEST_SECTION, Domain


def parse_virt_domain(table: StringTable) -> Domain | None:
    found: list[Domain] = []
    for row in table:
        document = load_json(row[0]) if row else None
        if not isinstance(document, dict):
            continue
        domain = _domain(document)
        if domain is not None:
            found.append(domain)
    if not found:
        if table:
            raise SectionUnparsed(f"no domain in {len(table)} lines: the first is {table[0][0][:80]!r}")
        return None
    running = [domain for domain in found if domain.state in RUNS]
    return (running or found)[-1]


def _domain(document: dict[str, Any]) -> Domain | None:
    name, state = document.get("name"), document.get("state")
    if not isinstance(name, str) or not isinstance(state, str):
        return None
    domain = Domain(name, state)
    for key in ("uuid",):
        if isinstance(document.get(key), str):
            domain.uuid = document[key]
    for key in ("vcpus", "memory_bytes", "max_memory_bytes"):
        value = document.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 63:
            setattr(domain, key, value)
    seconds = document.get("cpu_seconds")
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < 1e15:
        domain.cpu_seconds = float(seconds)
    for key in ("autostart", "persistent"):
        if isinstance(document.get(key), bool):
            setattr(domain, key, document[key])
    counters, names = document.get("counters"), document.get("names")
    if isinstance(counters, dict):
        domain.counters = {str(k): float(v) for k, v in counters.items()
                           if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e300}
    if isinstance(names, dict):
        domain.names = {str(k): v for k, v in names.items() if isinstance(v, str)}
    return domain


def discover_guest(section: Domain) -> DiscoveryResult:
    yield Service("", {"state_at_discovery": section.state})


def check_guest(item: str, params: DomainParams, section: Domain, store: ValueStore, now: float) -> CheckResult:
    yield from check_one_domain(params, section, store, now)


virt_domain_section = AgentSection(GUEST_SECTION, parse_virt_domain)

vm_guest = CheckPlugin(
    name="vm_guest",
    section=GUEST_SECTION,
    title="VM",
    discover=discover_guest,
    check=check_guest,
    default_params=DomainParams(),
)
