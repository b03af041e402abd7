"""Ceph health (each check named, muted ones shown) and redundancy with a recovery ETA.

Redundancy is judged from the placement-group map itself, not only from the health status:
a cluster can say HEALTH_OK while objects are degraded during a backfill.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    NoParams,
    Result,
    Service,
    State,
    ValueStore,
    render,
)
from watchkeeper.plugins.ceph.status import CephStatus
from watchkeeper.plugins.moosefs.recovery import Phase, track

SEVERITY = {"HEALTH_OK": State.OK, "HEALTH_WARN": State.WARN, "HEALTH_ERR": State.CRIT}


@dataclass(frozen=True, slots=True)
class RedundancyParams:
    degraded_state: int = 1
    """Objects with fewer copies than the pool's size: the next failure may make them unavailable."""
    unfound_state: int = 2
    misplaced_state: int = 0
    """Objects in the wrong place but with all their copies: a rebalance, not a loss."""
    stuck_seconds: float = 60.0
    """Placement groups inactive or stale this long are CRIT (Ceph's own mon_pg_stuck_threshold);
    shorter spells are normal while OSDs start or peer."""


PG_PROBLEMS = (
    # (flag in the PG state, state when present, what it means); "inactive" is any state without "active"
    ("down", State.CRIT, "down: an OSD they need is down, their data can be neither read nor written"),
    ("incomplete", State.CRIT, "incomplete: no OSD has a complete copy"),
    ("recovery_unfound", State.CRIT, "cannot recover: objects unfound"),
    ("backfill_unfound", State.CRIT, "cannot backfill: objects unfound"),
    ("inactive", State.CRIT, "inactive: I/O to them blocks"),
    ("stale", State.CRIT, "stale: no OSD has reported them lately"),
    ("undersized", State.WARN, "undersized: fewer copies than the pool's size"),
    ("backfill_toofull", State.WARN, "cannot backfill: the target OSD is too full"),
    ("recovery_toofull", State.WARN, "cannot recover: the target OSD is too full"),
    ("inconsistent", State.WARN, "inconsistent: a scrub found copies that differ"),
)
TRANSIENT = {"inactive", "stale"}
"""Problems every start or peering shows for seconds: CRIT only once stuck past `stuck_seconds`."""
MOVING = ("backfill", "recover", "remapped")


def pg_problems(section: CephStatus) -> dict[str, int]:
    """Placement groups per problem flag (a PG may count under several)."""
    if section.pg_flags:
        counts = {flag: section.pg_flags.get(flag, 0) for flag, _, _ in PG_PROBLEMS}
        counts["inactive"] = max(0, section.pgs - section.pg_flags.get("active", 0))
        return {flag: count for flag, count in counts.items() if count}
    counts = {}
    for state_name, count in section.pg_states.items():
        flags = set(state_name.split("+"))
        if "active" not in flags:
            flags.add("inactive")
        for flag, _, _ in PG_PROBLEMS:
            if flag in flags:
                counts[flag] = counts.get(flag, 0) + count
    return counts


def _not_clean(section: CephStatus) -> dict[str, int]:
    """Placement groups by state (or by flag, from the mgr module) other than active and clean."""
    if section.pg_flags:
        return {f"with flag {flag}": count for flag, count in section.pg_flags.items()
                if count and flag not in ("active", "clean")}
    return {state: count for state, count in section.pg_states.items() if state != "active+clean"}


def discover_single(section: CephStatus) -> DiscoveryResult:
    yield Service()


UNREACHABLE = ("timed out", "did not answer", "error connecting to the cluster", "monclient")
"""How `ceph` (and the agent's limit around it) say that no monitor answered."""


def _named(code: str, message: str) -> str:
    return f"{code}: {message}" if message else code  # the mgr module names checks without a message


def check_health(item: str, params: NoParams, section: CephStatus, store: ValueStore, now: float) -> CheckResult:
    if section.error:
        if any(words in section.error.lower() for words in UNREACHABLE):
            # no quorum, or every monitor down or cut off: the cluster cannot serve I/O
            yield Result(State.CRIT, f"no monitor answered: no quorum, or the monitors are unreachable "
                                     f"({section.error})")
        else:
            yield Result(State.UNKNOWN, f"cannot read the cluster's status: {section.error}")
        return
    overall = SEVERITY.get(section.health, State.UNKNOWN)
    active = [check for check in section.checks if not check.muted]
    yield Result(State.OK if active else overall, section.health)
    if section.mons:
        missing = section.mons - len(section.quorum)
        yield Result(State.WARN if missing > 0 else State.OK,
                     f"quorum {len(section.quorum)} of {section.mons} mons ({', '.join(section.quorum) or 'none'})")
    if section.mgr_available is False:
        yield Result(State.WARN, "no mgr is active: placement-group statistics are not updated")
    elif section.mgr_available:
        yield Result(State.OK, "", details=f"mgr active, {section.mgr_standbys} standby")
    for check in active:
        yield Result(SEVERITY.get(check.severity, State.WARN), _named(check.code, check.message))
    for check in section.checks:
        if check.muted:
            yield Result(State.OK, _named(f"{check.code} (muted)", check.message))
    if section.osds:
        down, out = section.osds - section.osds_up, section.osds - section.osds_in
        yield Result(State.OK, f"{section.osds_up} of {section.osds} OSDs up, {section.osds_in} in")
        yield Metric("ceph_osds_down", down)
        yield Metric("ceph_osds_out", out)
    if section.source:
        yield Result(State.OK, "", details=f"read from the mgr's prometheus module at {section.source}: the "
                     "cluster is healthy and settled, so `ceph status` was not asked")


def check_redundancy(item: str, params: RedundancyParams, section: CephStatus, store: ValueStore,
                     now: float) -> CheckResult:
    if section.error:
        yield Result(State.UNKNOWN, f"cannot read the cluster's status: {section.error}")
        return
    counts = (
        ("unfound", section.unfound_objects, 0, State(params.unfound_state),
         "objects unfound: no OSD that is up has a copy"),
        ("degraded", section.degraded_objects, section.degraded_total, State(params.degraded_state),
         "object copies degraded"),
        ("misplaced", section.misplaced_objects, section.misplaced_total, State(params.misplaced_state),
         "object copies misplaced"),
    )
    for kind, count, total, state, text in counts:
        yield Metric(f"ceph_objects_{kind}", count)
        if count:
            share = f" ({render.percent(100.0 * count / total)})" if total else ""
            yield Result(state, f"{count} {text}{share}")
    if not (section.unfound_objects or section.degraded_objects or section.misplaced_objects):
        yield Result(State.OK, f"all objects have their copies ({section.pgs} placement groups)")
    yield Metric("ceph_recovering_objects_per_second", section.recovering_objects_per_second)
    yield Metric("ceph_recovering_bytes_per_second", section.recovering_bytes_per_second)
    recovery = track(store, "degraded", now, section.degraded_objects + section.misplaced_objects)
    if section.recovering_objects_per_second > 0 and section.degraded_objects + section.misplaced_objects:
        eta = (section.degraded_objects + section.misplaced_objects) / section.recovering_objects_per_second
        yield Result(State.OK, f"recovering {render.count(section.recovering_objects_per_second)} objects/s "
                     f"({render.bytes_per_second(section.recovering_bytes_per_second)}), "
                     f"done in about {render.timespan(eta)} at this pace")
        yield Metric("ceph_recovery_eta_seconds", eta)
    elif recovery.phase is not Phase.CLEAN:
        yield Result(State.OK, recovery.describe("count"))
    problems = pg_problems(section)
    for flag, state, text in PG_PROBLEMS:
        key = f"pg_{flag}_since"  # when this problem was first seen without a break
        pgs = problems.get(flag)
        if not pgs:
            store.pop(key, None)
            continue
        first = store.get(key)
        if not isinstance(first, (int, float)) or isinstance(first, bool) or first > now:
            first = store[key] = now
        lasting = now - first
        if flag in TRANSIENT and lasting < params.stuck_seconds:
            yield Result(State.OK, f"{pgs} placement groups {text} (for {render.timespan(lasting)}; CRIT when "
                         f"stuck {render.timespan(params.stuck_seconds)})")
        else:
            yield Result(state, f"{pgs} placement groups {text}"
                         + (f", for {render.timespan(lasting)}" if flag in TRANSIENT else ""))
        yield Metric(f"ceph_pgs_{flag}", pgs)
    busy = _not_clean(section)
    moving = any(word in name for name in busy for word in MOVING)
    if problems.get("undersized") and not moving and section.osds_in < section.osds:
        yield Result(State.WARN, f"nothing is backfilling while {section.osds - section.osds_in} of "
                     f"{section.osds} OSDs are out: their copies may have nowhere to go (fewer OSDs in than "
                     "a pool's size)")
    if busy:
        yield Result(State.OK, "", details="Placement groups not active+clean:\n"
                     + "\n".join(f"{count} {state}" for state, count in sorted(busy.items())))


ceph_health = CheckPlugin(
    name="ceph_health",
    section="ceph_status",
    title="Ceph health",
    discover=discover_single,
    check=check_health,
    default_params=NoParams(),
)

ceph_redundancy = CheckPlugin(
    name="ceph_redundancy",
    section="ceph_status",
    title="Ceph redundancy",
    discover=discover_single,
    check=check_redundancy,
    default_params=RedundancyParams(),
)
