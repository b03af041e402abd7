"""OpenNebula services: each host (its state, monitoring error, what is allocated, how many more
VMs fit), the cloud's free capacity, each VM (its state, failures CRIT), each datastore's fill.

State numbers are OpenNebula's (its `VirtualMachine.h` and `Host.h`), kept by name here.
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
    check_time_until_full,
    render,
    vanished,
)
from watchkeeper.plugins.opennebula.section import Cloud, Datastores, OneDatastore, OneHost, OneVm

DAY = 86400.0
KIB, MIB = 1024, 1024 * 1024
HOST_STATES = {0: "INIT", 1: "MONITORING_MONITORED", 2: "MONITORED", 3: "ERROR", 4: "DISABLED",
               5: "MONITORING_ERROR", 6: "MONITORING_INIT", 7: "MONITORING_DISABLED", 8: "OFFLINE"}
SERVING = {0, 1, 2, 6}
"""Host states in which the scheduler places VMs on it."""
VM_STATES = {0: "INIT", 1: "PENDING", 2: "HOLD", 3: "ACTIVE", 4: "STOPPED", 5: "SUSPENDED", 6: "DONE", 7: "FAILED",
             8: "POWEROFF", 9: "UNDEPLOYED", 10: "CLONING", 11: "CLONING_FAILURE"}
LCM_STATES = dict(enumerate((
    "LCM_INIT", "PROLOG", "BOOT", "RUNNING", "MIGRATE", "SAVE_STOP", "SAVE_SUSPEND", "SAVE_MIGRATE", "PROLOG_MIGRATE",
    "PROLOG_RESUME", "EPILOG_STOP", "EPILOG", "SHUTDOWN", "CANCEL", "FAILURE", "CLEANUP_RESUBMIT", "UNKNOWN",
    "HOTPLUG", "SHUTDOWN_POWEROFF", "BOOT_UNKNOWN", "BOOT_POWEROFF", "BOOT_SUSPENDED", "BOOT_STOPPED",
    "CLEANUP_DELETE", "HOTPLUG_SNAPSHOT", "HOTPLUG_NIC", "HOTPLUG_SAVEAS", "HOTPLUG_SAVEAS_POWEROFF",
    "HOTPLUG_SAVEAS_SUSPENDED", "SHUTDOWN_UNDEPLOY", "EPILOG_UNDEPLOY", "PROLOG_UNDEPLOY", "BOOT_UNDEPLOY",
    "HOTPLUG_PROLOG_POWEROFF", "HOTPLUG_EPILOG_POWEROFF", "BOOT_MIGRATE", "BOOT_FAILURE", "BOOT_MIGRATE_FAILURE",
    "PROLOG_MIGRATE_FAILURE", "PROLOG_FAILURE", "EPILOG_FAILURE", "EPILOG_STOP_FAILURE", "EPILOG_UNDEPLOY_FAILURE",
    "PROLOG_MIGRATE_POWEROFF", "PROLOG_MIGRATE_POWEROFF_FAILURE", "PROLOG_MIGRATE_SUSPEND",
    "PROLOG_MIGRATE_SUSPEND_FAILURE", "BOOT_UNDEPLOY_FAILURE", "BOOT_STOPPED_FAILURE", "PROLOG_RESUME_FAILURE",
    "PROLOG_UNDEPLOY_FAILURE", "DISK_SNAPSHOT_POWEROFF", "DISK_SNAPSHOT_REVERT_POWEROFF",
    "DISK_SNAPSHOT_DELETE_POWEROFF", "DISK_SNAPSHOT_SUSPENDED", "DISK_SNAPSHOT_REVERT_SUSPENDED",
    "DISK_SNAPSHOT_DELETE_SUSPENDED", "DISK_SNAPSHOT", "DISK_SNAPSHOT_REVERT", "DISK_SNAPSHOT_DELETE",
    "PROLOG_MIGRATE_UNKNOWN", "PROLOG_MIGRATE_UNKNOWN_FAILURE", "DISK_RESIZE", "DISK_RESIZE_POWEROFF",
    "DISK_RESIZE_UNDEPLOYED", "HOTPLUG_NIC_POWEROFF", "HOTPLUG_RESIZE", "HOTPLUG_SAVEAS_UNDEPLOYED",
    "HOTPLUG_SAVEAS_STOPPED", "BACKUP", "BACKUP_POWEROFF")))
"""The LCM states of an ACTIVE VM (13 and 14 are unused since OpenNebula 4.14; 58 since 5.0)."""
PARKED = {"STOPPED", "SUSPENDED", "POWEROFF", "UNDEPLOYED"}
"""Not running, on purpose or not: judged against the state at discovery."""


@dataclass(frozen=True, slots=True)
class OneHostParams:
    error_state: int = 2
    disabled_state: int = 1
    """DISABLED or OFFLINE: an operator took it out of scheduling."""
    monitoring_age_seconds: Fixed | None = Fixed(warn=900.0, crit=3600.0)
    """Since OpenNebula last monitored it (monitoring runs every minute or so)."""
    vm_memory_mib: float | None = None
    vm_cpu: float | None = None
    """The VM size "fits N more" counts in; None: the median running VM's."""


@dataclass(frozen=True, slots=True)
class OneCapacityParams:
    vm_memory_mib: float | None = None
    vm_cpu: float | None = None
    fits_lower: Fixed | None = Fixed(warn=1, crit=0)
    """WARN when not one more VM of that size fits in the whole cloud."""
    trend_horizon_seconds: float = 24 * 3600.0
    time_until_full_seconds: Fixed | None = Fixed(warn=14 * DAY, crit=3 * DAY)


@dataclass(frozen=True, slots=True)
class OneVmParams:
    state_at_discovery: str | None = None
    parked_state: int = 2
    """STOPPED, SUSPENDED, POWEROFF or UNDEPLOYED though it was running at discovery."""
    failure_state: int = 2
    unknown_state: int = 2
    """LCM UNKNOWN: its host stopped reporting it."""


@dataclass(frozen=True, slots=True)
class OneDatastoreParams:
    used_percent: Fixed | None = Fixed(warn=80.0, crit=90.0)
    time_until_full_seconds: Fixed | None = Fixed(warn=14 * DAY, crit=3 * DAY)
    trend_horizon_seconds: float = 24 * 3600.0


def vm_state(vm: OneVm) -> str:
    name = VM_STATES.get(vm.state, f"STATE {vm.state}")
    return LCM_STATES.get(vm.lcm_state, f"LCM_STATE {vm.lcm_state}") if name == "ACTIVE" else name


def _size(cloud: Cloud, memory_mib: float | None, cpu: float | None) -> tuple[float, float] | None:
    """(MiB, CPUs) of the VM size "fits N more" counts in."""
    median = cloud.median_running
    if median is None and not (memory_mib and cpu):
        return None
    memory = memory_mib or (median[0] if median else 0.0)
    cpus = cpu or (median[1] if median else 0.0)
    return (memory, cpus) if memory > 0 and cpus > 0 else None


def _fits(host: OneHost, size: tuple[float, float]) -> int:
    if host.state not in SERVING:
        return 0
    by_memory = (host.max_mem_kib - host.mem_usage_kib) * KIB // (size[0] * MIB)
    by_cpu = (host.max_cpu - host.cpu_usage) // (size[1] * 100)
    return max(0, int(min(by_memory, by_cpu)))


def discover_hosts(section: Cloud) -> DiscoveryResult:
    for name in section.hosts:
        yield Service(name)


def check_host(item: str, params: OneHostParams, section: Cloud, store: ValueStore, now: float) -> CheckResult:
    host = section.hosts.get(item)
    if host is None:
        yield vanished(f"host {item}", [], "not in OpenNebula's host pool any more")
        return
    state = HOST_STATES.get(host.state, f"STATE {host.state}")
    if state in ("ERROR", "MONITORING_ERROR"):
        yield Result(State(params.error_state), f"{state}: {host.error or 'no message'}")
    elif state in ("DISABLED", "MONITORING_DISABLED", "OFFLINE"):
        yield Result(State(params.disabled_state), f"{state}: taken out of scheduling")
    else:
        yield Result(State.OK, state + (f", cluster {host.cluster}" if host.cluster else ""))
    if host.last_monitored and host.state in SERVING:
        yield from check_levels(max(0.0, now - host.last_monitored), levels_upper=params.monitoring_age_seconds,
                                label="last monitored", render_func=render.timespan, notice_only=True)
    if not host.max_mem_kib:
        return
    yield Result(State.OK, f"{host.running_vms} VMs; allocated {render.bytes_(host.mem_usage_kib * KIB)} of "
                 f"{render.bytes_(host.max_mem_kib * KIB)} memory, {host.cpu_usage / 100:g} of "
                 f"{host.max_cpu / 100:g} CPUs")
    yield Metric("opennebula_host_memory_allocated_bytes", host.mem_usage_kib * KIB,
                 boundaries=(0.0, host.max_mem_kib * KIB))
    yield Metric("opennebula_host_cpu_allocated", host.cpu_usage / 100, boundaries=(0.0, host.max_cpu / 100))
    size = _size(section, params.vm_memory_mib, params.vm_cpu)
    if size is not None and host.state in SERVING:
        fits = _fits(host, size)
        yield Result(State.OK, f"fits {fits} more VMs of {size[1]:g} CPU and {render.bytes_(size[0] * MIB)}")
        yield Metric("opennebula_host_vms_fit", fits)


def check_own_host(item: str, params: OneHostParams, section: Cloud, store: ValueStore, now: float) -> CheckResult:
    """On an OpenNebula host's own host (piggyback from its frontend): how the frontend sees it."""
    if len(section.hosts) != 1:
        yield Result(State.UNKNOWN, f"the frontend's data names {len(section.hosts)} hosts here, not one")
        return
    yield from check_host(next(iter(section.hosts)), params, section, store, now)


def discover_single(section: Cloud) -> DiscoveryResult:
    if section.hosts:
        yield Service()


def check_capacity(item: str, params: OneCapacityParams, section: Cloud, store: ValueStore,
                   now: float) -> CheckResult:
    yield from _capacity(params, section, list(section.hosts.values()), list(section.datastores.values()), store,
                         now, "opennebula")


def discover_clusters(section: Cloud) -> DiscoveryResult:
    for cluster in sorted({host.cluster for host in section.hosts.values() if host.cluster}):
        yield Service(cluster)


def check_cluster(item: str, params: OneCapacityParams, section: Cloud, store: ValueStore,
                  now: float) -> CheckResult:
    hosts = [host for host in section.hosts.values() if host.cluster == item]
    if not hosts:
        yield vanished(f"cluster {item}", [], "no host of OpenNebula's is in it any more")
        return
    datastores = [ds for ds in section.datastores.values() if ds.cluster == item]
    yield from _capacity(params, section, hosts, datastores, store, now, "opennebula_cluster")


def _capacity(params: OneCapacityParams, section: Cloud, hosts: list[OneHost], datastores: list[OneDatastore],
              store: ValueStore, now: float, prefix: str) -> CheckResult:
    """Hosts by state, memory, CPU and datastore space allocated, how many more VMs fit, and
    the time until the memory is all allocated: of the cloud, or of one cluster."""
    states: dict[str, int] = {}
    for host in hosts:
        name = HOST_STATES.get(host.state, f"STATE {host.state}")
        states[name] = states.get(name, 0) + 1
    yield Result(State.OK, "hosts: " + ", ".join(f"{count} {name}" for name, count in sorted(states.items())))
    serving = [host for host in hosts if host.state in SERVING]
    allocated = sum(host.mem_usage_kib for host in serving) * KIB
    total = sum(host.max_mem_kib for host in serving) * KIB
    cpu_allocated = sum(host.cpu_usage for host in serving) / 100
    cpus = sum(host.max_cpu for host in serving) / 100
    yield Result(State.OK, f"allocated {render.bytes_(allocated)} of {render.bytes_(total)} and {cpu_allocated:g} "
                 f"of {cpus:g} CPUs on the hosts that take VMs")
    sized = [ds for ds in datastores if ds.total_mb and ds.free_mb is not None]
    if sized:
        free = sum(ds.free_mb or 0.0 for ds in sized) * MIB
        space = sum(ds.total_mb or 0.0 for ds in sized) * MIB
        yield Result(State.OK, f"datastores {render.bytes_(free)} free of {render.bytes_(space)}")
        yield Metric(f"{prefix}_ds_free_bytes", free, boundaries=(0.0, space))
    size = _size(section, params.vm_memory_mib, params.vm_cpu)
    if size is None:
        yield Result(State.OK, "", details="no running VM to take a size from, and none configured")
        return
    fits = sum(_fits(host, size) for host in serving)
    yield from check_levels(fits, levels_lower=params.fits_lower, metric_name=f"{prefix}_vms_fit",
                            label=f"VMs of {size[1]:g} CPU and {render.bytes_(size[0] * MIB)} that still fit",
                            render_func=render.count)
    yield from check_time_until_full(store, now, allocated, max(0.0, total - allocated),
                                     horizon_s=params.trend_horizon_seconds, levels=params.time_until_full_seconds,
                                     metric_prefix=f"{prefix}_memory")


def discover_vms(section: Cloud) -> DiscoveryResult:
    for item, vm in section.vms.items():
        yield Service(item, {"state_at_discovery": vm_state(vm)})


def check_vm(item: str, params: OneVmParams, section: Cloud, store: ValueStore, now: float) -> CheckResult:
    vm = section.vms.get(item)
    if vm is None:
        yield vanished(f"VM {item}", [], "not in OpenNebula's VM pool any more (deleted: DONE)")
        return
    state = vm_state(vm)
    where = f" on {vm.host}" if vm.host and state == "RUNNING" else ""
    if "FAILURE" in state or state == "FAILED":
        yield Result(State(params.failure_state), f"{state}" + (f": {vm.error}" if vm.error else ""))
    elif state in ("UNKNOWN", "BOOT_UNKNOWN", "PROLOG_MIGRATE_UNKNOWN"):
        yield Result(State(params.unknown_state), f"{state}: its host no longer reports it")
    elif state in PARKED:
        was = params.state_at_discovery
        active = was in LCM_STATES.values()  # it was deployed on a host when discovered
        yield Result(State(params.parked_state) if active else State.OK,
                     f"{state} (it was {was} when discovered)" if active else f"{state}, as when discovered")
    else:
        yield Result(State.OK, state + where)
    if vm.memory_mib is not None and vm.cpu is not None:
        yield Result(State.OK, f"{vm.cpu:g} CPU, {render.bytes_(vm.memory_mib * MIB)}"
                     + (f", owner {vm.owner}" if vm.owner else ""))


def discover_datastores(section: Datastores) -> DiscoveryResult:
    for name, datastore in section.items.items():
        if datastore.total_mb:
            yield Service(name)


def check_datastore(item: str, params: OneDatastoreParams, section: Datastores, store: ValueStore,
                    now: float) -> CheckResult:
    datastore = section.items.get(item)
    if datastore is None:
        yield vanished(f"datastore {item}", [], "not in OpenNebula's datastore pool any more")
        return
    if not datastore.total_mb or datastore.free_mb is None:
        yield Result(State.UNKNOWN, "OpenNebula reports no size for it (not monitored yet?)")
        return
    total, free = datastore.total_mb * MIB, datastore.free_mb * MIB
    used = max(0.0, total - free)
    yield from check_levels(100.0 * used / total, levels_upper=params.used_percent,
                            metric_name="opennebula_ds_used_percent", render_func=render.percent,
                            label=f"used {render.bytes_(used)} of {render.bytes_(total)}", boundaries=(0.0, 100.0))
    yield from check_time_until_full(store, now, used, free, horizon_s=params.trend_horizon_seconds,
                                     levels=params.time_until_full_seconds, metric_prefix="opennebula_ds")


opennebula_host = CheckPlugin(name="opennebula_host", section="opennebula_hosts", title="OpenNebula host %s",
                              discover=discover_hosts, check=check_host, default_params=OneHostParams())
opennebula_capacity = CheckPlugin(name="opennebula_capacity", section="opennebula_hosts", title="OpenNebula capacity",
                                  discover=discover_single, check=check_capacity, default_params=OneCapacityParams())
opennebula_cluster = CheckPlugin(name="opennebula_cluster", section="opennebula_hosts", title="OpenNebula cluster %s",
                                 discover=discover_clusters, check=check_cluster, default_params=OneCapacityParams())
opennebula_own_host = CheckPlugin(name="opennebula_own_host", section="opennebula_host", title="OpenNebula host",
                                  discover=discover_single, check=check_own_host, default_params=OneHostParams())
opennebula_vm = CheckPlugin(name="opennebula_vm", section="opennebula_vms", title="OpenNebula VM %s",
                            discover=discover_vms, check=check_vm, default_params=OneVmParams())
opennebula_datastore = CheckPlugin(name="opennebula_datastore", section="opennebula_datastores",
                                   title="OpenNebula datastore %s", discover=discover_datastores,
                                   check=check_datastore, default_params=OneDatastoreParams())
