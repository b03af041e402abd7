"""Chunk redundancy per goal: missing, endangered and undergoal chunks, with an ETA.

The seed's wording is the summary: `WARN - 9287 chunks of goal 3 lack replicas`. Counts
come from the master's "all chunks" matrix; copies on disks marked for removal still count
there (they are readable), so a drain does not raise an alarm here but in its chunkserver.
"""

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
)
from watchkeeper.plugins.moosefs.mfscli import GoalCounts, MooseFS
from watchkeeper.plugins.moosefs.recovery import Phase, track


@dataclass(frozen=True, slots=True)
class ReplicationParams:
    missing_state: int = 2
    """State when any chunk has no valid copy: its data is unreadable."""
    endangered_state: int = 1
    """State when chunks of goal 2 or more are down to one copy."""
    undergoal_state: int = 1
    overgoal_state: int = 0
    """Extra copies appear when a chunkserver returns; the master deletes them over its loop."""
    single_by_goal_state: int = 0
    """LizardFS: chunks of a goal that asks for one copy (`1`, or a custom one-label goal)."""
    goal: int | str | None = None
    """Only judge this goal (the Nagios-plugin mode's `--goal`)."""


def discover_replication(section: MooseFS) -> DiscoveryResult:
    yield Service()


def _chunks(count: int, goal: int | str, plural: str, singular: str) -> str:
    return f"{count} {'chunk' if count == 1 else 'chunks'} of goal {goal} {singular if count == 1 else plural}"


def _wording(counts: GoalCounts) -> list[tuple[str, int, str]]:
    goal = counts.goal
    single = "has one copy, as its goal asks" if counts.single_by_goal == 1 else "have one copy, as their goal asks"
    return [
        ("missing", counts.missing,
         _chunks(counts.missing, goal, "have no copy", "has no copy") + ": their data is unreadable"),
        ("endangered", counts.endangered,
         _chunks(counts.endangered, goal, "are down to one copy", "is down to one copy")),
        ("undergoal", counts.undergoal, _chunks(counts.undergoal, goal, "lack replicas", "lacks replicas")),
        ("overgoal", counts.overgoal, _chunks(counts.overgoal, goal, "have extra copies", "has extra copies")),
        ("single_by_goal", counts.single_by_goal,
         _chunks(counts.single_by_goal, goal, single, single) + ": no redundancy by choice"),
    ]


def _goal_order(goal: int | str) -> tuple[int, int, str]:
    text = str(goal)
    return (0, int(text), "") if text.isascii() and text.isdigit() and len(text) < 20 else (1, 0, text)


def metric_goal(goal: int | str) -> str:
    """A goal's name as it can stand in a metric name (LizardFS goals may be `A_`, `ec(2,1)`...)."""
    return "".join(char if char.isalnum() else "_" for char in str(goal))


def repair_tool(section: MooseFS) -> str:
    return "lizardfs filerepair" if section.product == "LizardFS" else "mfsfilerepair"


def check_replication(
    item: str, params: ReplicationParams, section: MooseFS, store: ValueStore, now: float
) -> CheckResult:
    if not section.reachable:
        reason = "; ".join(section.errors) or "no master info in the output"
        yield Result(State.CRIT, f"cannot read the {section.product} master {section.master or ''}: {reason}"
                     .replace("  ", " "))
        return
    goals = section.by_goal()
    if params.goal is not None:
        goals = {goal: counts for goal, counts in goals.items() if str(goal) == str(params.goal)}
    states = {
        "missing": State(params.missing_state), "endangered": State(params.endangered_state),
        "undergoal": State(params.undergoal_state), "overgoal": State(params.overgoal_state),
        "single_by_goal": State(params.single_by_goal_state),
    }
    totals = dict.fromkeys(("missing", "endangered", "undergoal", "overgoal", "single_by_goal", "stable"), 0)
    problems = False
    notes = []  # what is counted but judged OK comes after the problems
    for goal, counts in sorted(goals.items(), key=lambda item: _goal_order(item[0])):
        name = metric_goal(goal)
        for kind, count, text in _wording(counts):
            totals[kind] += count
            if count and states[kind] is State.OK:
                notes.append(Result(State.OK, text))
            elif count:
                problems = True
                yield Result(states[kind], text)
            if kind != "single_by_goal" or count:
                yield Metric(f"mfs_goal{name}_{kind}", count)
        totals["stable"] += counts.stable
        yield Metric(f"mfs_goal{name}_stable", counts.stable)
    chunks = sum(counts.chunks for counts in goals.values())
    for kind, count in totals.items():
        if kind != "single_by_goal" or count:
            yield Metric(f"mfs_chunks_{kind}", count)
    yield Metric("mfs_chunks", chunks)
    if not problems:
        scope = f"of goal {params.goal} " if params.goal is not None else ""
        yield Result(State.OK, f"all {render.count(chunks)} chunks {scope}have their copies")
    yield from notes

    interval = _interval(store, now)
    lacking = totals["endangered"] + totals["undergoal"]
    recovery = track(store, "lacking", now, lacking)
    if recovery.phase is not Phase.CLEAN:
        yield Result(State.OK, recovery.describe("count"))
        if recovery.eta_seconds is not None:
            yield Metric("mfs_replication_eta_seconds", recovery.eta_seconds)
        if recovery.since_seconds:
            yield Result(State.OK, "", details=f"redundancy reduced for {render.timespan(recovery.since_seconds)}")
    if totals["missing"]:
        yield Result(State.OK, "", details=(
            "Chunks with no copy come back only with the chunkserver or disk that held them. "
            f"Never run {repair_tool(section)} on such files: it fills the missing chunks with zeros."))
    yield from _loop_details(section, interval)
    yield from _table(goals)


def _interval(store: ValueStore, now: float) -> float | None:
    last = store.get("last_check")
    store["last_check"] = now
    if isinstance(last, (int, float)) and now > last:
        return now - float(last)
    return None


def _loop_details(section: MooseFS, interval: float | None) -> CheckResult:
    version = section.info.get("master version", "?")
    role = f", {section.personality}" if section.personality else ""
    lines = [f"Master {section.master} ({section.product} {version}{role})"]
    loop = section.chunk_loop
    if section.product != "MooseFS":
        pass  # lizardfs-admin does not report the chunk loop
    elif loop is None:
        lines.append("Chunk loop: no data yet (the master has not finished its first loop since it started)")
    else:
        lines.append(f"Chunk loop: the last one took {render.timespan(loop.seconds)}")
        if interval is not None:
            if interval > 1.5 * loop.seconds:
                lines.append(f"Check interval {render.timespan(interval)} is longer than the chunk loop: "
                             f"set it near {render.timespan(loop.seconds)} to see every loop's counts")
            elif interval < 0.5 * loop.seconds:
                lines.append(f"Check interval {render.timespan(interval)} is shorter than the chunk loop: "
                             "counts change between loops only as replication works; "
                             "new problems show within one loop")
            else:
                lines.append(f"Check interval {render.timespan(interval)} fits the chunk loop")
    yield Result(State.OK, "", details="\n".join(lines))


def _table(goals: dict[int | str, GoalCounts]) -> CheckResult:
    rows = ["goal  chunks  missing  endangered  undergoal  stable  overgoal"]
    for goal, c in sorted(goals.items(), key=lambda item: _goal_order(item[0])):
        rows.append(f"{goal!s:>4}  {c.chunks:>6}  {c.missing:>7}  {c.endangered:>10}  {c.undergoal:>9}  "
                    f"{c.stable:>6}  {c.overgoal:>8}")
    yield Result(State.OK, "", details="\n".join(rows))


moosefs_replication = CheckPlugin(
    name="moosefs_replication",
    section="moosefs",
    title="MooseFS replication",
    discover=discover_replication,
    check=check_replication,
    default_params=ReplicationParams(),
)
