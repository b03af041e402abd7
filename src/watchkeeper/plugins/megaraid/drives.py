"""One service per physical drive behind the controller: its state, rebuild progress, and the
error counters that only grow, judged against what they were at discovery."""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    Result,
    Service,
    State,
    ValueStore,
    render,
    vanished,
)
from watchkeeper.plugins.megaraid.model import MegaRaid, PhysicalDrive

PD_STATES = {
    "onln": State.OK, "online": State.OK, "jbod": State.OK, "ugood": State.OK, "unconfigured(good)": State.OK,
    "ghs": State.OK, "dhs": State.OK, "hotspare": State.OK, "cpybck": State.OK, "copyback": State.OK,
    "rbld": State.WARN, "rebuild": State.WARN,
    "offln": State.CRIT, "offline": State.CRIT, "failed": State.CRIT, "ubad": State.CRIT,
    "unconfigured(bad)": State.CRIT, "msng": State.CRIT, "missing": State.CRIT,
}
COUNTERS = (("media_errors", "media errors"), ("other_errors", "other errors"))


@dataclass(frozen=True, slots=True)
class DriveParams:
    media_errors: float = 0.0
    other_errors: float = 0.0
    predictive_failures: float = 0.0


def discover_drives(section: MegaRaid) -> DiscoveryResult:
    for item, pd in section.pds.items():
        if not pd.state:  # details of a drive whose state the listing did not give
            continue
        facts = {name: getattr(pd, name) for name, _ in (*COUNTERS, ("predictive_failures", ""))
                 if getattr(pd, name) is not None}
        yield Service(item, facts)


def check_drive(item: str, params: DriveParams, section: MegaRaid, store: ValueStore, now: float) -> CheckResult:
    pd = section.pds.get(item)
    if pd is None or not pd.state:
        yield vanished(f"drive {item}", section.errors, "the controller no longer lists it")
        return
    word = pd.state.split(",")[0].strip()
    yield Result(PD_STATES.get(word.lower(), State.UNKNOWN), word,
                 details=" ".join(part for part in (pd.model, pd.size, pd.group and f"drive group {pd.group}") if part))
    yield from _rebuild(pd)
    for name, label in COUNTERS:
        value = getattr(pd, name)
        if value is None:
            continue
        yield Metric(f"megaraid_{name}", value)
        baseline = float(getattr(params, name))
        if value > baseline:
            yield Result(State.WARN, f"{int(value)} {label} (+{int(value - baseline)} since discovery)")
        elif value:
            yield Result(State.OK, "", details=f"{int(value)} {label}, as at discovery")
    if pd.predictive_failures:
        yield Result(State.WARN, f"predictive failure count {int(pd.predictive_failures)}: plan to replace it")
    if pd.smart_alert:
        yield Result(State.WARN, "the drive flagged a SMART alert")


def _rebuild(pd: PhysicalDrive) -> CheckResult:
    if pd.rebuild_percent is None:
        return
    yield Metric("megaraid_rebuild_percent", pd.rebuild_percent)
    text = f"rebuild {render.percent(pd.rebuild_percent)}"
    if pd.rebuild_seconds_left is not None:
        yield Metric("megaraid_rebuild_eta_seconds", pd.rebuild_seconds_left)
        text += f", done in about {render.timespan(pd.rebuild_seconds_left)}"
    yield Result(State.OK, text)


megaraid_drives = CheckPlugin(
    name="megaraid_pd",
    section="megaraid",
    title="RAID PD %s",
    discover=discover_drives,
    check=check_drive,
    default_params=DriveParams(),
)
