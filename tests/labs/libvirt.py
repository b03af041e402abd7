"""libvirt's built-in test driver as a hypervisor for tests: real libvirt code (Debian's
`libvirt-clients`, virsh 9.0) over a simulated node that a test describes in a node XML file.

    node = write_node(tmp / "node.xml", cpus=32, memory_kib=128 * 1024**2, domains=[
        LabDomain("web01", vcpus=4, memory_kib=4 * 1024**2),
        LabDomain("db01", vcpus=8, memory_kib=16 * 1024**2, current_kib=8 * 1024**2, state=PAUSED),
    ])
    virsh -c test://{node} list --all

The driver keeps its state in the process: every `virsh` re-reads the file, so a test changes
the hypervisor (a domain stopped, gone, added) by writing the file again. Each domain needs a
UUID of its own: without one the driver makes up a new one in every process.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

RUNNING, PAUSED, SHUT_OFF, CRASHED, PMSUSPENDED = 1, 3, 5, 6, 7
"""virDomainState numbers, as the driver's `test:runstate` takes them."""


def unavailable() -> str | None:
    return None if shutil.which("virsh") else "virsh (Debian package libvirt-clients)"


@dataclass(frozen=True, slots=True)
class LabDomain:
    name: str
    vcpus: int
    memory_kib: int
    current_kib: int | None = None
    state: int = RUNNING
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))


def write_node(path: Path, cpus: int, memory_kib: int, domains: list[LabDomain]) -> str:
    """Write the node XML; the connection URI for it."""
    parts = [f"<node>\n  <cpu><mhz>2400</mhz><model>x86_64</model><active>{cpus}</active><nodes>1</nodes>"
             f"<sockets>1</sockets><cores>{cpus}</cores><threads>1</threads></cpu>\n"
             f"  <memory>{memory_kib}</memory>\n"]
    for domain in domains:
        parts.append(
            "  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
            f"    <name>{escape(domain.name)}</name><uuid>{domain.uuid}</uuid>\n"
            f"    <memory unit='KiB'>{domain.memory_kib}</memory>\n"
            f"    <currentMemory unit='KiB'>{domain.current_kib or domain.memory_kib}</currentMemory>\n"
            f"    <vcpu>{domain.vcpus}</vcpu><os><type>hvm</type></os>\n"
            f"    <test:runstate>{domain.state}</test:runstate>\n"
            "  </domain>\n")
    parts.append("</node>\n")
    path.write_text("".join(parts))
    return f"test://{path}"


def collect(uri: str, **settings: object) -> bytes:
    """What the agent's libvirt collector prints for the hypervisor at `uri` (the agent's
    configuration is set for this call only)."""
    from watchkeeper.agent import watchkeeper_agent as agent

    before = agent.CONFIG.get("libvirt")
    agent.CONFIG["libvirt"] = {"uri": uri, **settings}
    try:
        out: list[str] = []
        agent.virt_libvirt(out)  # type: ignore[no-untyped-call]
    finally:
        if before is None:
            agent.CONFIG.pop("libvirt", None)
        else:
            agent.CONFIG["libvirt"] = before
    return ("\n".join(out) + "\n").encode()
