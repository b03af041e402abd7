"""`Hypervisor`: a node's capacity for more domains, not only its usage (libvirt, Xen).

What a cloud operator asks is "how many more VMs fit here?". The node's memory, less a reserve
for the host itself, less what the domains that hold memory (running, paused, in shutdown)
hold now; on Xen, which counts its free memory itself, that count less what Xen's heap needs
for the domains to come (not to be reported as free, as the Xen heap once was). Its CPUs
times the allocation ratio allowed, less their vCPUs. How many domains of
a given size fit in both: the size is a rule's (`vm_vcpus`, `vm_memory_mib`), else the median
running domain's. WARN when none fits (a rule sets the levels), and the time until none fits,
from the growth of the memory held.
"""

from __future__ import annotations

import statistics
from collections.abc import Generator
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
    check_time_until_full,
    render,
)
from watchkeeper.plugins.hypervisors.node import Domain, Node

DAY = 86400.0
MIB = 1024 * 1024
HOLDING = ("running", "paused", "in shutdown", "blocked", "pmsuspended", "no state")
"""States in which a domain holds its memory on the node (a shut-off or crashed one does not)."""


@dataclass(frozen=True, slots=True)
class HypervisorParams:
    host_reserve_percent: float = 10.0
    """Memory kept for the host itself (its kernel, page cache, qemu's own overhead)."""
    cpu_allocation_ratio: float = 4.0
    """vCPUs allowed per CPU thread."""
    vm_vcpus: int | None = None
    vm_memory_mib: int | None = None
    """The size "fits N more" counts in; None: the median running domain's."""
    fits_lower: Fixed | None = Fixed(warn=1, crit=0)
    """WARN below 1 more VM of that size; CRIT is off (below 0 never happens)."""
    time_until_full_seconds: Fixed | None = Fixed(warn=14 * DAY, crit=3 * DAY)
    trend_horizon_seconds: float = 24 * 3600.0
    xen_heap_mib: float | None = None
    """Xen only: memory its heap needs for the domains still to come; None: 12 MiB plus one per
    10 domains of `xen_max_vms` (the rule Citrix gives for `xenheap_megabytes`)."""
    xen_max_vms: int = 100


def discover_hypervisor(section: Node) -> DiscoveryResult:
    if section.cpus or section.domains:
        yield Service()


def _size(params: HypervisorParams, holding: list[Domain]) -> tuple[int, int] | None:
    """(vCPUs, bytes) of the VM size "fits N more" counts in."""
    if params.vm_vcpus and params.vm_memory_mib:
        return params.vm_vcpus, params.vm_memory_mib * MIB
    running = [d for d in holding if d.state in ("running", "blocked") and d.vcpus and d.max_memory_bytes]
    if not running:
        return None
    vcpus = params.vm_vcpus or int(statistics.median_low(d.vcpus or 0 for d in running))
    memory = params.vm_memory_mib * MIB if params.vm_memory_mib else \
        int(statistics.median_low(d.max_memory_bytes or 0 for d in running))
    return (vcpus, memory) if vcpus > 0 and memory > 0 else None


def _xen_memory(params: HypervisorParams, section: Node) -> Generator[Result, None, tuple[float, float]]:
    """(held, usable) where Xen counts its free memory itself: what it holds for dom0, the
    guests and itself is held; of what is free, its heap's share for new domains is kept back."""
    heap = (params.xen_heap_mib if params.xen_heap_mib is not None else 12 + params.xen_max_vms / 10) * MIB
    free = max(0.0, (section.free_memory_bytes or 0) - heap)
    held = float(section.memory_bytes - (section.free_memory_bytes or 0))
    yield Result(State.OK, f"free for new domains {render.bytes_(free)} of {render.bytes_(section.memory_bytes)} "
                 f"(Xen's free memory less {render.bytes_(heap)} for its heap)")
    if section.host_memory_fixed is False:
        yield Result(State.OK, "dom0 balloons (no dom0_mem on Xen's command line): what it holds beyond its "
                     "needs is not counted free", details="Xen's best practice: a fixed dom0_mem, autoballoon off")
    return held, held + free


def check_hypervisor(item: str, params: HypervisorParams, section: Node, store: ValueStore,
                     now: float) -> CheckResult:
    states: dict[str, int] = {}
    for domain in section.domains.values():
        states[domain.state] = states.get(domain.state, 0) + 1
    counted = ", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "no domains"
    yield Result(State.OK, f"{section.cpus} CPUs, {render.bytes_(section.memory_bytes)}; {counted}",
                 details=f"{section.model} at {section.mhz} MHz" if section.model else "")
    for error in section.errors:
        yield Result(State.WARN, error)
    holding = [d for d in section.domains.values() if d.state in HOLDING]
    unknown = [d.name for d in holding if d.memory_bytes is None or d.vcpus is None]
    if unknown:
        yield Result(State.UNKNOWN, f"size unknown of {render.listing(sorted(unknown))}: capacity not counted")
        return
    vcpus = sum(d.vcpus or 0 for d in holding)
    allowed = section.cpus * params.cpu_allocation_ratio
    yield Result(State.OK, f"vCPUs {vcpus} of {allowed:g} allowed ({params.cpu_allocation_ratio:g} per CPU)")
    if section.free_memory_bytes is not None:
        held, usable = yield from _xen_memory(params, section)
    else:
        held = sum(d.memory_bytes or 0 for d in holding)
        usable = section.memory_bytes * (1 - params.host_reserve_percent / 100.0)
        yield Result(State.OK, f"memory held by domains {render.bytes_(held)} of {render.bytes_(usable)} "
                     f"({render.percent(params.host_reserve_percent)} kept for the host)")
    yield Metric("hypervisor_vcpus_allocated", vcpus, boundaries=(0.0, allowed))
    yield Metric("hypervisor_memory_held_bytes", held, boundaries=(0.0, usable))
    size = _size(params, holding)
    if size is None:
        yield Result(State.OK, "", details="no running domain to take a VM size from, and no size configured "
                     "(vm_vcpus, vm_memory_mib): how many more fit is not counted")
        return
    fits = max(0, min(int((usable - held) // size[1]), int((allowed - vcpus) // size[0])))
    by = "memory" if (usable - held) // size[1] <= (allowed - vcpus) // size[0] else "vCPUs"
    yield from check_levels(fits, levels_lower=params.fits_lower, metric_name="hypervisor_vms_fit",
                            label=f"VMs of {size[0]} vCPUs and {render.bytes_(size[1])} that still fit (bound by "
                                  f"{by})", render_func=render.count)
    yield from check_time_until_full(store, now, held, max(0.0, usable - held),
                                     horizon_s=params.trend_horizon_seconds, levels=params.time_until_full_seconds,
                                     metric_prefix="hypervisor_memory")


hypervisor = CheckPlugin(
    name="hypervisor",
    section="hypervisor",
    title="Hypervisor",
    discover=discover_hypervisor,
    check=check_hypervisor,
    default_params=HypervisorParams(),
)
