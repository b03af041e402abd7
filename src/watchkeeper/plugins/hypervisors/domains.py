"""`VM NAME`: each libvirt domain on the hypervisor, judged against its state at discovery.

A domain that ran when it was discovered and is shut off now is CRIT; one that was off then
(a template, a spare, a build agent started on demand) is OK while off. Paused and
guest-suspended domains warn, a crashed one is CRIT, and one gone from the hypervisor (moved
away, undefined, or a transient domain that stopped) is CRIT until its service is removed.
Its vCPUs and memory, CPU use against its vCPUs (from its CPU time), and on KVM its disks'
and interfaces' throughput from `domstats`.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Metric,
    Result,
    Service,
    State,
    ValueStore,
    check_levels,
    rate,
    render,
    vanished,
)
from watchkeeper.plugins.hypervisors.node import Domain, Node

RUNS = ("running", "blocked", "paused", "in shutdown", "pmsuspended")
"""States of a domain that was started: if it was in one at discovery, it is meant to run."""


@dataclass(frozen=True, slots=True)
class DomainParams:
    state_at_discovery: str | None = None
    """A fact kept at discovery: what "expected" means for this domain."""
    stopped_state: int = 2
    """Shut off, though it was running at discovery."""
    paused_state: int = 1
    suspended_state: int = 1
    """Suspended by the guest (ACPI S3/S4)."""
    crashed_state: int = 2
    autostart_off_state: int = 0
    """A running persistent domain that will not start with the host after a reboot."""
    cpu_percent: Fixed | None = None
    """Levels on CPU use, in percent of its vCPUs."""


def discover_domains(section: Node) -> DiscoveryResult:
    for name, domain in section.domains.items():
        yield Service(name, {"state_at_discovery": domain.state})


def _state(params: DomainParams, domain: Domain) -> Result:
    state = domain.state
    if state == "shut off" or state == "crashed":
        was = params.state_at_discovery
        if state == "crashed":
            return Result(State(params.crashed_state), "crashed")
        if was in RUNS:
            return Result(State(params.stopped_state), f"shut off (it was {was} when discovered)")
        return Result(State.OK, "shut off, as when discovered")
    if state == "paused":
        return Result(State(params.paused_state), "paused: its vCPUs do not run")
    if state == "pmsuspended":
        return Result(State(params.suspended_state), "suspended by the guest (power management)")
    return Result(State.OK, state)


def _sum(domain: Domain, kind: str, field: str) -> float | None:
    """The sum of a counter over a domain's devices (`block.0.rd.bytes` + `block.1.rd.bytes`)."""
    found = [value for key, value in domain.counters.items()
             if key.startswith(f"{kind}.") and key.endswith(f".{field}") and key.count(".") == 3]
    return sum(found) if found else None


def check_domain(item: str, params: DomainParams, section: Node, store: ValueStore,
                 now: float) -> CheckResult:
    domain = section.domains.get(item)
    if domain is None:
        yield vanished(f"VM {item}", section.errors, "not on this hypervisor any more (moved away, undefined, or "
                       "a transient domain that stopped)")
        return
    yield from check_one_domain(params, domain, store, now)


def check_one_domain(params: DomainParams, domain: Domain, store: ValueStore, now: float) -> CheckResult:
    """A domain's state, size, CPU use and throughput (on its hypervisor's host, or its own)."""
    yield _state(params, domain)
    size = []
    if domain.vcpus is not None:
        size.append(f"{domain.vcpus} vCPUs")
        yield Metric("vm_vcpus", domain.vcpus)
    if domain.memory_bytes is not None:
        of = f" of {render.bytes_(domain.max_memory_bytes)}" if domain.max_memory_bytes else ""
        size.append(f"{render.bytes_(domain.memory_bytes)}{of} memory")
        yield Metric("vm_memory_bytes", domain.memory_bytes,
                     boundaries=(0.0, float(domain.max_memory_bytes or domain.memory_bytes)))
    if size:
        yield Result(State.OK, ", ".join(size))
    if domain.persistent and domain.autostart is False and domain.state in RUNS:
        yield Result(State(params.autostart_off_state), "autostart off: after a reboot of the host it stays off"
                     if params.autostart_off_state else "", details="autostart is off")
    nanoseconds = domain.counters.get("cpu.time")
    seconds = nanoseconds / 1e9 if nanoseconds is not None else domain.cpu_seconds
    if seconds is not None and domain.vcpus and domain.state in RUNS:
        per_second = rate(store, "cpu", now, seconds)
        if per_second is not None:
            yield from check_levels(100.0 * per_second / domain.vcpus, levels_upper=params.cpu_percent,
                                    metric_name="vm_cpu_percent", label="CPU", render_func=render.percent,
                                    boundaries=(0.0, 100.0))
    for kind, field, name in (("block", "rd.bytes", "disk_read"), ("block", "wr.bytes", "disk_write"),
                              ("net", "rx.bytes", "net_receive"), ("net", "tx.bytes", "net_send")):
        total = _sum(domain, kind, field)
        if total is not None:
            per_second = rate(store, name, now, total)
            if per_second is not None:
                yield Metric(f"vm_{name}_bytes_per_second", per_second)


vms = CheckPlugin(
    name="vm",
    section="hypervisor",
    title="VM %s",
    discover=discover_domains,
    check=check_domain,
    default_params=DomainParams(),
)
