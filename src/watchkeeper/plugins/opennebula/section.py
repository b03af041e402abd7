"""Parse the OpenNebula special agent's sections (`watchkeeper.collect.opennebula`): one JSON
object per line for each host, VM and datastore of the frontend's pools.

    <<<opennebula_hosts:sep(0)>>>
    {"id":"1","name":"hyp101","state":2.0,"max_mem":16433996.0,"mem_usage":524288.0,"max_cpu":800.0,...}
    <<<opennebula_vms:sep(0)>>>
    {"id":"60","name":"testttylinux-60","state":3.0,"lcm_state":3.0,"memory_mib":512.0,"cpu":1.0,...}

Host memory is in KiB and CPU in hundredths of a CPU (800: eight), as OpenNebula counts them;
a VM's `memory_mib` and `cpu` are its template's (MiB, CPUs). A VM's item is its name, with its
ID when two VMs share one.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.checkapi import AgentSection, StringTable, finite, load_json
from watchkeeper.plugins.hypervisors.node import host_name

COMPANIONS = ("<<<opennebula_vms>>>", "<<<opennebula_datastores>>>")


@dataclass(frozen=True, slots=True)
class OneHost:
    id: str
    name: str
    state: int
    cluster: str = ""
    error: str = ""
    last_monitored: float | None = None
    max_mem_kib: float = 0.0
    mem_usage_kib: float = 0.0
    max_cpu: float = 0.0
    cpu_usage: float = 0.0
    running_vms: int = 0


@dataclass(frozen=True, slots=True)
class OneVm:
    id: str
    name: str
    state: int
    lcm_state: int
    owner: str = ""
    memory_mib: float | None = None
    cpu: float | None = None
    host: str = ""
    error: str = ""
    template_id: str = ""


@dataclass(frozen=True, slots=True)
class OneDatastore:
    id: str
    name: str
    total_mb: float | None
    free_mb: float | None
    cluster: str = ""


@dataclass(slots=True)
class Datastores:
    items: dict[str, OneDatastore] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Cloud:
    hosts: dict[str, OneHost] = field(default_factory=dict)
    vms: dict[str, OneVm] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)
    median_running: tuple[float, float] | None = None
    """(MiB, CPUs) of the median running VM: worked out once, read by every host's check."""
    datastores: dict[str, OneDatastore] = field(default_factory=dict)
    """For each cluster's capacity (the datastores section is read with the hosts)."""


RUNNING = (3, 3)
"""STATE ACTIVE, LCM_STATE RUNNING."""


def _median_running(vms: dict[str, OneVm]) -> tuple[float, float] | None:
    running = [vm for vm in vms.values() if (vm.state, vm.lcm_state) == RUNNING and vm.memory_mib and vm.cpu]
    if not running:
        return None
    return (statistics.median_low(vm.memory_mib or 0.0 for vm in running),
            statistics.median_low(vm.cpu or 0.0 for vm in running))


def _objects(lines: list[str], unread: list[str]) -> list[dict[str, Any]]:
    found = []
    for line in lines:
        data = load_json(line)
        if isinstance(data, dict) and isinstance(data.get("name"), str) and isinstance(data.get("id"), str):
            found.append(data)
        elif line.strip():
            unread.append(f"not an OpenNebula object: {line[:200]}")
    return found


def _number(data: dict[str, Any], key: str) -> float:
    value = finite(data.get(key))
    return value if value is not None and 0 <= value < 2**53 else 0.0


def _optional(data: dict[str, Any], key: str) -> float | None:
    value = finite(data.get(key))
    return value if value is not None and 0 <= value < 2**53 else None


def _state(data: dict[str, Any], key: str) -> int:
    value = finite(data.get(key))
    return int(value) if value is not None and 0 <= value < 1000 else -1


def _vms(lines: list[str], unread: list[str]) -> dict[str, OneVm]:
    vms = [OneVm(id=d["id"], name=d["name"], state=_state(d, "state"), lcm_state=_state(d, "lcm_state"),
                 owner=str(d.get("owner") or ""), memory_mib=_optional(d, "memory_mib"), cpu=_optional(d, "cpu"),
                 host=str(d.get("host") or ""), error=str(d.get("error") or "")[:500],
                 template_id=str(d.get("template_id") or "")[:100])
           for d in _objects(lines, unread)]
    names = Counter(vm.name for vm in vms)
    return {(vm.name if names[vm.name] == 1 else f"{vm.name} ({vm.id})"): vm for vm in vms}


def _parts(lines: list[str]) -> dict[str, list[str]]:
    """The section's own lines ("") and each companion's, by its header."""
    parts: dict[str, list[str]] = {"": []}
    current = parts[""]
    for line in lines:
        if line in COMPANIONS:
            current = parts.setdefault(line, [])
        else:
            current.append(line)
    return parts


def _host(d: dict[str, Any]) -> OneHost:
    return OneHost(id=d["id"], name=d["name"], state=_state(d, "state"), cluster=str(d.get("cluster") or ""),
                   error=str(d.get("error") or "")[:500], last_monitored=_optional(d, "last_monitored"),
                   max_mem_kib=_number(d, "max_mem"), mem_usage_kib=_number(d, "mem_usage"),
                   max_cpu=_number(d, "max_cpu"), cpu_usage=_number(d, "cpu_usage"),
                   running_vms=int(_number(d, "running_vms")))


def parse_opennebula_hosts(table: StringTable) -> Cloud:
    parts = _parts([" ".join(row) for row in table])
    cloud = Cloud()
    for d in _objects(parts[""], cloud.unread):
        cloud.hosts[d["name"]] = _host(d)
    cloud.vms = _vms(parts.get(COMPANIONS[0], []), [])
    cloud.median_running = _median_running(cloud.vms)
    cloud.datastores = _datastores(parts.get(COMPANIONS[1], []), [])
    return cloud


def parse_opennebula_vms(table: StringTable) -> Cloud:
    cloud = Cloud()
    cloud.vms = _vms([" ".join(row) for row in table], cloud.unread)
    cloud.median_running = _median_running(cloud.vms)
    return cloud


def _datastores(lines: list[str], unread: list[str]) -> dict[str, OneDatastore]:
    return {d["name"]: OneDatastore(id=d["id"], name=d["name"], total_mb=_optional(d, "total_mb"),
                                    free_mb=_optional(d, "free_mb"), cluster=str(d.get("cluster") or ""))
            for d in _objects(lines, unread)}


def parse_opennebula_datastores(table: StringTable) -> Datastores:
    found = Datastores()
    found.items = _datastores([" ".join(row) for row in table], found.unread)
    return found


def parse_opennebula_host(table: StringTable) -> Cloud:
    """One OpenNebula host as its frontend sees it, on that host's own host (piggyback), with
    the cloud's median running VM for "fits N more"."""
    cloud = Cloud()
    for d in _objects([" ".join(row) for row in table], cloud.unread):
        cloud.hosts[d["name"]] = _host(d)
        median = d.get("median_vm")
        if isinstance(median, list) and len(median) == 2 and all(finite(v) for v in median):
            cloud.median_running = (float(median[0]), float(median[1]))
    return cloud


def cloud_as_hosts(cloud: Cloud) -> dict[str, str]:
    """Each OpenNebula host as piggyback data for a host of its name (its `<<<opennebula_host>>>`
    line: its own `OpenNebula host` service), and each VM for a host of the VM's name: its line
    of `<<<opennebula_vms>>>` (its own `OpenNebula VM` service). With labels: a host's cluster;
    a VM's host, that host's cluster, its owner and template."""
    hosts: dict[str, str] = {}
    for item, host in cloud.hosts.items():
        name = host_name(item)
        if not name:
            continue
        line = {"id": host.id, "name": host.name, "state": host.state, "cluster": host.cluster, "error": host.error,
                "last_monitored": host.last_monitored, "max_mem": host.max_mem_kib, "mem_usage": host.mem_usage_kib,
                "max_cpu": host.max_cpu, "cpu_usage": host.cpu_usage, "running_vms": host.running_vms,
                "median_vm": list(cloud.median_running) if cloud.median_running else None}
        hosts[name] = _block("opennebula_host", line, {"opennebula_cluster": host.cluster, "opennebula_role": "host"})
    for item, vm in cloud.vms.items():
        name = host_name(item)
        if not name:
            continue
        on = cloud.hosts.get(vm.host)
        labels = {"hypervisor": vm.host, "opennebula_cluster": on.cluster if on else "",
                  "opennebula_owner": vm.owner, "opennebula_template": vm.template_id}
        hosts[name] = hosts.get(name, "") + _block("opennebula_vms", dataclasses.asdict(vm), labels)
    return hosts


def _block(section: str, line: dict[str, Any], labels: dict[str, str]) -> str:
    return (f"<<<{section}:sep(0)>>>\n{json.dumps(line, separators=(',', ':'))}\n"
            f"<<<labels:sep(0)>>>\n{json.dumps({k: v for k, v in labels.items() if v})}\n")


opennebula_hosts_section = AgentSection("opennebula_hosts", parse_opennebula_hosts,
                                        companions=("opennebula_vms", "opennebula_datastores"),
                                        piggyback=cloud_as_hosts)
opennebula_host_section = AgentSection("opennebula_host", parse_opennebula_host)
opennebula_vms_section = AgentSection("opennebula_vms", parse_opennebula_vms)
opennebula_datastores_section = AgentSection("opennebula_datastores", parse_opennebula_datastores)
