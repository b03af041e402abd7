"""One service per virtual drive: its state, the members of its drive group that are not
online, and whether the write cache is what it was configured (or a rule expects) to be.

A controller falls back from write-back to write-through when its battery or CacheVault
cannot protect the cache: nothing fails, the disks just get slow. That is a WARN here.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Result,
    Service,
    State,
    ValueStore,
    vanished,
)
from watchkeeper.plugins.megaraid.model import MegaRaid

VD_STATES = {
    "optl": (State.OK, "optimal"), "optimal": (State.OK, "optimal"),
    "pdgd": (State.WARN, "partially degraded"), "partially degraded": (State.WARN, "partially degraded"),
    "dgrd": (State.CRIT, "degraded"), "degraded": (State.CRIT, "degraded"),
    "ofln": (State.CRIT, "offline"), "offline": (State.CRIT, "offline"),
    "rec": (State.WARN, "recovering"), "recovery": (State.WARN, "recovering"),
}
"""RAID 6 that lost one disk is `Partially Degraded` and can lose one more; `Degraded` can lose none."""
POLICIES = {"WB": "write-back", "AWB": "always write-back", "WT": "write-through"}
ONLINE = frozenset(("onln", "online"))


@dataclass(frozen=True, slots=True)
class VolumeParams:
    write_policy: str = ""
    """Expected effective write policy (WB, AWB or WT); empty: the configured one, where the tool tells it."""
    disk_cache: str = ""
    """Expected disk cache policy as the tool prints it (`Disabled`, `Enabled`); empty: not judged."""


def discover_volumes(section: MegaRaid) -> DiscoveryResult:
    for item in section.vds:
        yield Service(item)


def check_volume(item: str, params: VolumeParams, section: MegaRaid, store: ValueStore, now: float) -> CheckResult:
    vd = section.vds.get(item)
    if vd is None:
        yield vanished(f"virtual drive {item}", section.errors, "the controller no longer lists it")
        return
    state, word = VD_STATES.get(vd.state.lower(), (State.UNKNOWN, f"state {vd.state or 'not reported'}"))
    controller = item.split("/")[0]
    members = [pd for pd in section.pds.values() if vd.group and pd.group == vd.group
               and pd.item.startswith(f"{controller}/") and pd.state.split(",")[0].lower() not in ONLINE]
    named = ", ".join(f"{pd.item} {pd.state}" for pd in members)
    label = " ".join(part for part in (vd.raid.split(",")[0], vd.name and f"'{vd.name}'", vd.size) if part)
    yield Result(state, f"{word}" + (f": {named}" if named and state is not State.OK else ""),
                 details=f"{label}; drive group {vd.group or 'not reported'}")
    yield from _cache(vd.write_policy, vd.configured_write_policy, vd.disk_cache, params)


def _cache(current: str, configured: str, disk_cache: str, params: VolumeParams) -> CheckResult:
    expected = params.write_policy.upper() or configured
    if current and expected and current != expected:
        why = " (the battery or CacheVault cannot protect the cache?)" if current == "WT" else ""
        yield Result(State.WARN, f"write cache is {POLICIES.get(current, current)}, expected "
                                 f"{POLICIES.get(expected, expected)}{why}")
    elif current:
        yield Result(State.OK, "", details=f"write cache {POLICIES.get(current, current)}")
    if params.disk_cache and disk_cache and disk_cache.lower() != params.disk_cache.lower():
        yield Result(State.WARN, f"disk cache policy is {disk_cache}, expected {params.disk_cache}")
    elif disk_cache:
        yield Result(State.OK, "", details=f"disk cache policy {disk_cache}")


megaraid_volumes = CheckPlugin(
    name="megaraid_vd",
    section="megaraid",
    title="RAID VD %s",
    discover=discover_volumes,
    check=check_volume,
    default_params=VolumeParams(),
)
