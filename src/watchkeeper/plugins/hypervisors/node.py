"""What a hypervisor's tools say, whichever tools: the node and its domains (libvirt's `virsh`,
Xen's `xl`), for the `Hypervisor` and `VM` services."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field

STATES = {0: "no state", 1: "running", 2: "blocked", 3: "paused", 4: "in shutdown", 5: "shut off", 6: "crashed",
          7: "pmsuspended"}
"""virDomainState, as `domstats` numbers it and `dominfo` names it; Xen's states map onto these."""


@dataclass(slots=True)
class Domain:
    name: str
    state: str = "no state"
    uuid: str = ""
    vcpus: int | None = None
    memory_bytes: int | None = None
    """The balloon's current size: what the domain holds of the host now."""
    max_memory_bytes: int | None = None
    cpu_seconds: float | None = None
    autostart: bool | None = None
    persistent: bool | None = None
    counters: dict[str, float] = field(default_factory=dict)
    """`domstats` numbers by their key (`block.0.rd.bytes`, `net.0.tx.bytes`, `cpu.time`)."""
    names: dict[str, str] = field(default_factory=dict)
    """`domstats` text fields (`block.0.name` vda, `net.0.name` vnet0)."""


@dataclass(slots=True)
class Node:
    cpus: int = 0
    mhz: int = 0
    model: str = ""
    memory_bytes: int = 0
    domains: dict[str, Domain] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    free_memory_bytes: int | None = None
    """What the hypervisor itself counts as free for new domains (Xen); None: count it from the domains."""
    host_memory_bytes: int | None = None
    """What the host's own domain holds (Xen's dom0); None where the host is no domain."""
    host_memory_fixed: bool | None = None
    """Whether that is fixed (Xen's `dom0_mem`) rather than ballooned."""


GUEST_SECTION = "virt_domain"
"""Where a domain's data goes on its own host (`guests.py`)."""
NOT_IN_HOST_NAMES = re.compile(r"[^A-Za-z0-9._-]+")


def host_name(domain: str) -> str:
    """The host name a domain's data goes to: its name, with each run of characters a host name
    cannot hold (a space, a quote) made one `_` ("build agent 2" -> "build_agent_2")."""
    return NOT_IN_HOST_NAMES.sub("_", domain).strip("._-")[:253]


DOMAIN_FIELDS = tuple(f.name for f in dataclasses.fields(Domain))


def domains_as_hosts(node: Node) -> dict[str, str]:
    """Each domain as piggyback data for its own host. (A shallow dict of the fields, not
    `dataclasses.asdict`, whose deep copy was 69 % of this in a profile of 10,000 domains.)"""
    hosts: dict[str, list[str]] = {}
    for domain in node.domains.values():
        name = host_name(domain.name)
        if name:
            fields = {key: getattr(domain, key) for key in DOMAIN_FIELDS}
            hosts.setdefault(name, [f"<<<{GUEST_SECTION}:sep(0)>>>\n"]).append(
                json.dumps(fields, separators=(",", ":")) + "\n")
    return {name: "".join(lines) for name, lines in hosts.items()}
