"""Parse `<<<libvirt>>>`: `virsh` sessions whose commands the agent separates with `echo` markers.

    [nodeinfo]
    CPU(s):              32
    Memory size:         134217728 KiB
    [uuids]
    11111111-2222-3333-4444-000000000001
    [domstats]
    Domain: 'web01'
      state.state=1
      cpu.time=2117361150          (KVM: nanoseconds; balloon.* KiB; block.N.*, net.N.* counters)
    [dominfo 11111111-2222-3333-4444-000000000001]
    Name:           web01
    State:          running
    CPU(s):         4
    CPU time:       12.5s
    Max memory:     4194304 KiB
    Used memory:    4194304 KiB
    Autostart:      disable

`domstats` gives each domain's state by number (and, on KVM, its counters); `dominfo` its
vCPUs, memory and autostart on every driver. A domain that `dominfo` could not read (gone
between the two `virsh` runs) keeps its state from `domstats`.
"""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, SectionUnparsed, StringTable, to_float, to_int
from watchkeeper.plugins.hypervisors.node import STATES, Domain, Node, domains_as_hosts

KIB = 1024
MAX_FIELD = 64


def _kib(text: str) -> int | None:
    number = to_int(text.split()[0]) if text.split() else None
    return number * KIB if number is not None and text.split()[-1:] == ["KiB"] else None


def _node(section: Node, key: str, value: str) -> None:
    if key == "CPU(s)":
        section.cpus = to_int(value) or 0
    elif key == "CPU frequency":
        section.mhz = to_int(value.split()[0]) or 0 if value.split() else 0
    elif key == "CPU model":
        section.model = value
    elif key == "Memory size":
        section.memory_bytes = _kib(value) or 0


def _info(domain: Domain, key: str, value: str) -> None:
    if key == "State" and value in STATES.values() and domain.state == "no state":
        domain.state = value
    elif key == "UUID":
        domain.uuid = value
    elif key == "CPU(s)":
        domain.vcpus = to_int(value)
    elif key == "CPU time":
        domain.cpu_seconds = to_float(value.removesuffix("s"))
    elif key == "Max memory":
        domain.max_memory_bytes = _kib(value)
    elif key == "Used memory":
        domain.memory_bytes = _kib(value)
    elif key in ("Autostart", "Persistent"):
        setattr(domain, key.lower(), value in ("enable", "yes"))


def _stat(domain: Domain, key: str, value: str) -> None:
    if key == "state.state":
        code = to_int(value)
        domain.state = STATES.get(code if code is not None else -1, "no state")
        return
    number = to_float(value)
    if number is None:
        if len(domain.names) < 4 * MAX_FIELD:
            domain.names[key] = value[:200]
    elif len(domain.counters) < 16 * MAX_FIELD:
        domain.counters[key] = number
    if number is None or not 0 <= number < 2**43:  # no count or size of a domain is larger
        return
    if key == "vcpu.current":
        domain.vcpus = int(number)
    elif key == "balloon.current":
        domain.memory_bytes = int(number) * KIB
    elif key == "balloon.maximum":
        domain.max_memory_bytes = int(number) * KIB


def parse_libvirt(table: StringTable) -> Node:
    lines = [row[0] if row else "" for row in table]
    if lines and all(line.startswith("watchkeeper-error:") or not line.strip() for line in lines):
        raise SectionUnparsed(f"virsh failed: {lines[-1].partition(':')[2].strip()}")
    section = Node()
    part = ""
    domain: Domain | None = None
    for line in lines:
        stripped = line.strip()
        if line.startswith("watchkeeper-error:"):
            section.errors.append(line.partition(":")[2].strip()[:500])
        elif stripped.startswith("[") and stripped.endswith("]") and " " not in stripped.strip("[]").strip():
            part, domain = stripped[1:-1], None
        elif stripped.startswith("[dominfo ") and stripped.endswith("]"):
            part, domain = "dominfo", None
        elif not stripped or part == "uuids":
            continue
        elif part == "nodeinfo":
            key, _, value = stripped.partition(":")
            _node(section, key.strip(), value.strip())
        elif part == "domstats":
            if line.startswith("Domain: '") and line.endswith("'"):
                name = line[len("Domain: '"):-1]
                domain = section.domains.setdefault(name, Domain(name))
            elif domain is not None and "=" in stripped:
                key, _, value = stripped.partition("=")
                _stat(domain, key, value)
            else:
                section.unread.append(f"not a domstats line: {line[:200]}")
        elif part == "dominfo":
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "Name":
                domain = section.domains.setdefault(value, Domain(value))
            elif domain is not None:
                _info(domain, key, value)
        else:
            section.unread.append(f"outside a known part: {line[:200]}")
    if not section.cpus and not section.domains:
        raise SectionUnparsed("virsh printed neither the node nor any domain"
                              + (f": {section.errors[0]}" if section.errors else ""))
    return section


libvirt_section = AgentSection("libvirt", parse_libvirt, parsed_section="hypervisor", piggyback=domains_as_hosts)
