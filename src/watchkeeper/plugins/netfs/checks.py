"""`NFS mount PATH` and `CIFS mount PATH`: a mount that stops answering hangs every program that
touches it, so `hanging` is CRIT at once; a mount that is gone is CRIT until discovery removes
it; one the agent may not read is UNKNOWN (nothing is known of it); the fill is told, and
judged where a rule sets levels (the server's own checks own it).
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Levels,
    Result,
    Service,
    State,
    ValueStore,
    check_levels,
    render,
)
from watchkeeper.plugins.netfs.mounts import NetworkMounts


@dataclass(frozen=True, slots=True)
class NetworkMountParams:
    used_percent: Levels | None = None


def discover_mounts(section: NetworkMounts) -> DiscoveryResult:
    for point in section.mounts:
        yield Service(point)


def check_mount(item: str, params: NetworkMountParams, section: NetworkMounts, store: ValueStore,
                now: float) -> CheckResult:
    mount = section.mounts.get(item)
    if mount is None:
        yield Result(State.CRIT, f"{item} is not mounted any more",
                     details="Unmounted on purpose? Run service discovery with --remove-vanished.")
        return
    source = f" ({mount.source})" if mount.source else ""
    if mount.state == "hanging":
        yield Result(State.CRIT, f"hanging: the server does not answer{source}; programs that touch the mount "
                     "hang with it")
        return
    if mount.state == "Permission denied":
        yield Result(State.UNKNOWN, f"the agent may not read the mount point{source}, so whether it answers is "
                     "not known", details="The agent runs as a user without access to it; run it as root.")
        return
    if mount.state != "ok":
        yield Result(State.CRIT, f"{mount.state}{source}")
        return
    yield Result(State.OK, f"mounted and answering{source}")
    if mount.size_bytes and mount.available_bytes is not None:
        used = mount.size_bytes - mount.available_bytes
        yield from check_levels(100.0 * used / mount.size_bytes, levels_upper=params.used_percent,
                                metric_name="netfs_used_percent", label="used", render_func=render.percent,
                                boundaries=(0.0, 100.0))
        yield Result(State.OK, "", details=f"{render.bytes_(used)} of {render.bytes_(mount.size_bytes)} used")


nfs_mounts = CheckPlugin(
    name="nfs_mount",
    section="nfsmounts",
    title="NFS mount %s",
    discover=discover_mounts,
    check=check_mount,
    default_params=NetworkMountParams(),
)

cifs_mounts = CheckPlugin(
    name="cifs_mount",
    section="cifsmounts",
    title="CIFS mount %s",
    discover=discover_mounts,
    check=check_mount,
    default_params=NetworkMountParams(),
)
