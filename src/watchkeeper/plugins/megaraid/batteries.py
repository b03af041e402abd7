"""One service per controller with a BBU or CacheVault: it is what makes write-back caching safe."""

from __future__ import annotations

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    NoParams,
    Result,
    Service,
    State,
    ValueStore,
)
from watchkeeper.plugins.megaraid.model import MegaRaid


def discover_batteries(section: MegaRaid) -> DiscoveryResult:
    for item in section.batteries:
        yield Service(item)


def check_battery(item: str, params: NoParams, section: MegaRaid, store: ValueStore, now: float) -> CheckResult:
    battery = section.batteries.get(item)
    if battery is None:
        yield Result(State.CRIT, f"the battery/CacheVault of {item} is no longer reported",
                     details="Without it the controller caches in write-through mode (slow) or unprotected.")
        return
    name = " ".join(part for part in (battery.kind, battery.model) if part)
    if battery.replacement_required:
        yield Result(State.CRIT, f"{name}: replacement required; the controller falls back to write-through")
    if not battery.state:
        if not battery.replacement_required:
            yield Result(State.OK, f"{name}: state not reported, no replacement required")
    elif battery.state.lower() == "optimal":
        yield Result(State.OK, f"{name}: optimal")
    else:
        yield Result(State.WARN, f"{name}: {battery.state}")


megaraid_batteries = CheckPlugin(
    name="megaraid_battery",
    section="megaraid",
    title="RAID battery %s",
    discover=discover_batteries,
    check=check_battery,
    default_params=NoParams(),
)
