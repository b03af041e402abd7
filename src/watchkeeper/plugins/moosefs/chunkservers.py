"""Each chunkserver as the master sees it: connected, stopped, in maintenance, or forgotten;
its disks (damaged, with errors, marked for removal) and space; drain progress and ETA.

A chunkserver is discovered once and stays: when it drops out of the master's lists it is
CRIT until someone removes the service, so a retired server is a decision, not an accident.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Metric,
    Result,
    Service,
    State,
    ValueStore,
    check_levels,
    render,
)
from watchkeeper.plugins.moosefs.mfscli import Chunkserver, Disk, MooseFS
from watchkeeper.plugins.moosefs.recovery import Phase, track


@dataclass(frozen=True, slots=True)
class ChunkserverParams:
    used_percent: Levels | None = Fixed(warn=90.0, crit=95.0)
    """A full chunkserver takes no new chunks; the master then fills the others faster."""
    disconnected_state: int = 2
    stopped_for_maintenance_state: int = 1
    """Disconnected while in maintenance (set by an administrator, or `mfschunkserver stop`)."""
    disk_error_state: int = 1
    damaged_disk_state: int = 2


def discover_chunkservers(section: MooseFS) -> DiscoveryResult:
    for address in section.chunkservers:
        yield Service(address)


def drain_pending(section: MooseFS) -> int | None:
    """Chunks still lacking copies once disks marked for removal are gone, cluster-wide."""
    if section.regular_chunks is None:
        return None
    kinds = ("missing", "endangered", "undergoal")
    regular = sum(section.regular_chunks.total(kind) for kind in kinds)
    every = sum(section.total(kind) for kind in kinds)
    return max(regular - every, 0)


def check_chunkserver(
    item: str, params: ChunkserverParams, section: MooseFS, store: ValueStore, now: float
) -> CheckResult:
    if not section.reachable:
        yield Result(State.UNKNOWN,
                     f"no data from the {section.product} master: {'; '.join(section.errors) or 'no master info'}")
        return
    server = section.chunkservers.get(item)
    if server is None:
        yield Result(State.CRIT, f"{item} is not known to the master any more; if it was retired on purpose, "
                     "run service discovery with --remove-vanished")
        return
    if not server.connected:
        yield from _disconnected(server, params)
        return
    maintenance = " (in maintenance mode)" if server.maintenance != "off" else ""
    yield Result(State.OK, f"connected{maintenance}, {server.chunks} chunks")
    if server.total_bytes:
        used_percent = 100.0 * server.used_bytes / server.total_bytes
        yield from check_levels(used_percent, levels_upper=params.used_percent, metric_name="mfs_cs_used_percent",
                                label="Used", render_func=render.percent, boundaries=(0.0, 100.0))
        yield Result(State.OK, f"{render.bytes_(server.used_bytes)} of {render.bytes_(server.total_bytes)}")
    yield Metric("mfs_cs_chunks", server.chunks)
    yield Metric("mfs_cs_used_bytes", server.used_bytes, boundaries=(0, server.total_bytes or None))
    yield Metric("mfs_cs_total_bytes", server.total_bytes)
    disks = [disk for disk in section.disks if disk.server == item]
    yield from _disks(disks, params)
    if server.removal_status != "-" or any(disk.marked_for_removal for disk in disks):
        yield from _drain(server, section, store, now)
    else:
        track(store, "drain", now, 0)


def _disconnected(server: Chunkserver, params: ChunkserverParams) -> CheckResult:
    if server.maintenance == "temp_on":
        yield Result(State(params.stopped_for_maintenance_state),
                     "stopped (temporary maintenance): the master holds replication of its chunks "
                     "until its maintenance timeout, then replicates them")
    elif server.maintenance == "on":
        yield Result(State(params.stopped_for_maintenance_state),
                     "disconnected, in maintenance mode: its chunks are not replicated meanwhile")
    else:
        yield Result(State(params.disconnected_state),
                     "disconnected from the master: its chunk copies are unavailable")


def _disks(disks: list[Disk], params: ChunkserverParams) -> CheckResult:
    lines = []
    for disk in disks:
        percent = 100.0 * disk.used_bytes / disk.total_bytes if disk.total_bytes else 0.0
        lines.append(f"{disk.path}: {disk.status}, {disk.chunks} chunks, {render.bytes_(disk.used_bytes)} of "
                     f"{render.bytes_(disk.total_bytes)} ({render.percent(percent)}), last error: {disk.last_error}")
        if disk.damaged:
            yield Result(State(params.damaged_disk_state), f"disk {disk.path} is {disk.status}")
        elif disk.last_error not in ("no errors", "-", ""):
            yield Result(State(params.disk_error_state), f"disk {disk.path}: last error {disk.last_error}")
    if lines:
        yield Result(State.OK, "", details="Disks:\n" + "\n".join(lines))


def _drain(server: Chunkserver, section: MooseFS, store: ValueStore, now: float) -> CheckResult:
    pending = drain_pending(section)
    yield Metric("mfs_cs_removal_chunks", server.removal_chunks)
    if server.removal_status.upper() == "READY":
        track(store, "drain", now, 0)
        yield Result(State.OK, f"disks marked for removal: READY, {server.removal_chunks} chunks "
                     "have their copies elsewhere; the disks can be removed")
        return
    if pending is None:
        yield Result(State.OK, "disks marked for removal: NOT READY")
        return
    yield Metric("mfs_removal_pending_chunks", pending)
    recovery = track(store, "drain", now, pending)
    progress = recovery.describe("pending count") if recovery.phase is not Phase.CLEAN else ""
    if pending == 0:
        progress = "copies complete, waiting for the master's next loop to confirm"
    yield Result(State.OK, f"disks marked for removal: NOT READY, {pending} chunks still need copies "
                 f"elsewhere (cluster-wide){', ' + progress if progress else ''}")
    if recovery.eta_seconds is not None:
        yield Metric("mfs_removal_eta_seconds", recovery.eta_seconds)


moosefs_chunkservers = CheckPlugin(
    name="moosefs_chunkserver",
    section="moosefs",
    title="MooseFS chunkserver %s",
    discover=discover_chunkservers,
    check=check_chunkserver,
    default_params=ChunkserverParams(),
)
