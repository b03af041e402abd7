"""Parse `<<<xen>>>`: `xl info` and `xl list` on a Xen host's dom0, between markers.

    [xl info]
    nr_cpus                : 6
    total_memory           : 8064                  (MiB)
    free_memory            : 6111                  (MiB: what Xen can give new domains)
    xen_commandline        : dom0_mem=1G console=dtuart ...
    [xl list]
    Name                                        ID   Mem VCPUs	State	Time(s)
    Domain-0                                     0 13036     8     r-----     398.7
    guest-01                                     1  1024     2     -b----       6.0

`xl list` shows only domains that exist: one that was shut down is gone, not "shut off". Its
state letters: r running, b blocked (idle, waiting for an event: the normal state of a quiet
guest), p paused, s shut down (not yet destroyed), c crashed, d dying. Domain-0 is the host
itself: what it holds is recorded, and it is no VM.
"""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, SectionUnparsed, StringTable, to_float, to_int
from watchkeeper.plugins.hypervisors.node import Domain, Node, domains_as_hosts

MIB = 1024 * 1024
LETTERS = (("c", "crashed"), ("d", "in shutdown"), ("s", "in shutdown"), ("p", "paused"), ("r", "running"),
           ("b", "blocked"))
"""Worst first: a domain shows one letter, but a crashed one may keep others."""
DOM0 = "Domain-0"


def _state(flags: str) -> str:
    for letter, state in LETTERS:
        if letter in flags:
            return state
    return "no state"  # `------`: between states, or dom0 on some versions


def _mib(text: str) -> int | None:
    number = to_int(text)
    return number * MIB if number is not None and number < 2**33 else None


def _dom0_fixed(commandline: str) -> bool:
    return any(option.startswith("dom0_mem=") for option in commandline.split())


def parse_xen(table: StringTable) -> Node:
    lines = [row[0] if row else "" for row in table]
    if lines and all(line.startswith("watchkeeper-error:") or not line.strip() for line in lines):
        raise SectionUnparsed(f"xl failed: {lines[-1].partition(':')[2].strip()}")
    node = Node()
    info: dict[str, str] = {}
    part = ""
    for line in lines:
        stripped = line.strip()
        if line.startswith("watchkeeper-error:"):
            node.errors.append(line.partition(":")[2].strip()[:500])
        elif stripped in ("[xl info]", "[xl list]"):
            part = stripped[1:-1]
        elif not stripped:
            continue
        elif part == "xl info" and ":" in line:
            key, _, value = line.partition(":")  # values may hold colons (dates, hw_caps)
            info[key.strip()] = value.strip()
        elif part == "xl list":
            fields = stripped.split()
            if fields[:2] == ["Name", "ID"]:
                continue
            # the name may hold spaces: the five columns after it are fixed
            if len(fields) < 6 or to_int(fields[-5]) is None:
                node.unread.append(f"not an xl list row: {line[:200]}")
                continue
            name = " ".join(fields[:-5])
            memory, vcpus = _mib(fields[-4]), to_int(fields[-3])
            if name == DOM0:
                node.host_memory_bytes = memory
                continue
            node.domains[name] = Domain(name, state=_state(fields[-2]),
                                        vcpus=vcpus if vcpus is not None and vcpus < 2**20 else None,
                                        memory_bytes=memory, max_memory_bytes=memory, cpu_seconds=to_float(fields[-1]))
        else:
            node.unread.append(f"outside a known part: {line[:200]}")
    if "total_memory" not in info and not node.domains:
        raise SectionUnparsed("xl printed neither the host (xl info) nor any domain (xl list)"
                              + (f": {node.errors[0]}" if node.errors else ""))
    node.cpus = to_int(info.get("nr_cpus")) or 0
    node.mhz = int(to_float(info.get("cpu_mhz")) or 0)
    node.model = f"Xen {info['xen_version']}" if info.get("xen_version") else "Xen"
    node.memory_bytes = _mib(info.get("total_memory", "")) or 0
    node.free_memory_bytes = _mib(info.get("free_memory", ""))
    node.host_memory_fixed = _dom0_fixed(info.get("xen_commandline", ""))
    return node


xen_section = AgentSection("xen", parse_xen, parsed_section="hypervisor", piggyback=domains_as_hosts)
