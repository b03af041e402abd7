"""Bacula and Bareos services: each backup job, each pool, and the director.

`Backup JOB`: the newest run. Failed (E, e, f) is CRIT with the reason from its log ("Fatal
error: Unable to connect to Client: ..."); finished with warnings or canceled WARN; still
running is said, WARN while it waits (for a volume, a mount, the storage daemon) or when it
runs three times as long as its usual run. The age of the newest successful run against
`age_seconds` (default WARN 26 h, CRIT 50 h: one daily run missed, then two); none in the
jobs the director listed is CRIT, and a job that never ran at all is CRIT too. The bytes of
the newest successful run against the usual (the median of the earlier successful runs of
the same level, at least three): less than half is a warning sign (a backup that suddenly
shrinks lost its data or its mount).
`Backup pool POOL`: volumes by status; one in Error is CRIT; no appendable volume WARNs (the
next job waits unless a volume can be recycled or labelled).
`Bacula director`: its version, running jobs, and the jobs that wait (WARN, with what for).
"""

from __future__ import annotations

import statistics
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
    render,
    vanished,
)
from watchkeeper.plugins.backups.bacula import (
    CANCELED_CODES,
    FAILED_CODES,
    LEVELS,
    OK_CODES,
    RUNNING_CODES,
    STATUS_NAMES,
    WARNING_CODES,
    Bacula,
    Job,
)

HOUR = 3600.0
USUAL_RUNS = 3
"""Earlier successful runs needed before "usual" size or duration is judged."""


@dataclass(frozen=True, slots=True)
class JobParams:
    age_seconds: Fixed | None = Fixed(warn=26 * HOUR, crit=50 * HOUR)
    failed_state: int = 2
    warnings_state: int = 1
    canceled_state: int = 1
    waiting_state: int = 1
    long_running_factor: float = 3.0
    """WARN when a run takes this many times its usual duration."""
    shrink_percent: float = 50.0
    """WARN when a successful run wrote less than this part of its usual bytes."""
    never_ran_state: int = 2


@dataclass(frozen=True, slots=True)
class PoolParams:
    error_state: int = 2
    no_appendable_state: int = 1


@dataclass(frozen=True, slots=True)
class DirectorParams:
    waiting_state: int = 1


def _backups(section: Bacula) -> dict[str, list[Job]]:
    runs: dict[str, list[Job]] = {}
    for job in section.jobs:
        if job.type in ("B", ""):
            runs.setdefault(job.name, []).append(job)
    return runs


def discover_jobs(section: Bacula) -> DiscoveryResult:
    for name in sorted(set(_backups(section)) | set(section.defined)):
        yield Service(name)


def check_job(item: str, params: JobParams, section: Bacula, store: ValueStore, now: float) -> CheckResult:
    now = section.now or now
    runs = _backups(section).get(item, [])
    if not runs:
        if item in section.defined:
            yield Result(State(params.never_ran_state), "no run in the jobs the director listed: it never ran "
                         "lately (is it scheduled, is its schedule enabled?)")
        elif "jobs" in section.asked:
            yield vanished(f"Backup job {item}", section.errors, "neither defined on the director nor in its jobs")
        else:
            yield Result(State.UNKNOWN, "the director's jobs were not read" + (
                f": {section.errors[0]}" if section.errors else ""))
        return
    newest = runs[-1]
    done = [job for job in runs if job.status not in RUNNING_CODES]
    good = [job for job in runs if job.status in OK_CODES | WARNING_CODES]
    if newest.status in RUNNING_CODES:
        yield from _running(params, section, newest, good, now)
    last = done[-1] if done else None
    if last is not None:
        yield _outcome(params, section, last, now)
    if good:
        success = good[-1]
        if success.end is not None:
            yield from check_levels(max(0.0, now - success.end), levels_upper=params.age_seconds,
                                    metric_name="backup_age_seconds", label="last good backup",
                                    render_func=render.timespan)
        yield from _size(params, success, good[:-1])
    else:
        yield Result(State.CRIT, "no successful run in the jobs the director listed")


def _running(params: JobParams, section: Bacula, job: Job, good: list[Job], now: float) -> CheckResult:
    doing = section.running.get(job.jobid) or STATUS_NAMES.get(job.status, job.status)
    since = f" for {render.timespan(max(0.0, now - job.start))}" if job.start is not None else ""
    waiting = "waiting" in doing or job.status in RUNNING_CODES - {"R", "C", "a"}
    state = State(params.waiting_state) if waiting else State.OK
    yield Result(state, f"JobId {job.jobid} {doing.removeprefix('is ')}{since}")
    durations = [run.duration_s for run in good if run.duration_s is not None]
    if job.start is not None and len(durations) >= USUAL_RUNS:
        usual = statistics.median(durations)
        took = now - job.start
        if usual > 0 and took > params.long_running_factor * usual:
            yield Result(State.WARN, f"running {took / usual:.0f} times as long as usual ({render.timespan(usual)})")


def _outcome(params: JobParams, section: Bacula, job: Job, now: float) -> Result:
    level = LEVELS.get(job.level, job.level)
    when = f" {render.timespan(max(0.0, now - job.end))} ago" if job.end is not None else ""
    if job.status in OK_CODES:
        return Result(State.OK, f"last run {level} OK{when}")
    reason = section.reasons.get(job.jobid, "")
    if job.status in WARNING_CODES:
        return Result(State(params.warnings_state), f"last run {level}{when} finished with warnings"
                      + (f": {reason}" if reason else ""))
    if job.status in FAILED_CODES:
        return Result(State(params.failed_state), f"last run JobId {job.jobid} ({level}{when}) failed: "
                      + (reason or STATUS_NAMES.get(job.status, job.status) + "; its log was not read"))
    if job.status in CANCELED_CODES:
        return Result(State(params.canceled_state), f"last run JobId {job.jobid} ({level}{when}) was canceled")
    return Result(State.UNKNOWN, f"last run JobId {job.jobid} has status {job.status!r} "
                  f"({STATUS_NAMES.get(job.status, 'not a status this check knows')})")


def _size(params: JobParams, job: Job, earlier: list[Job]) -> CheckResult:
    if job.bytes is None:
        return
    files = f", {job.files:,} files" if job.files is not None else ""
    yield Result(State.OK, f"{LEVELS.get(job.level, job.level)} wrote {render.bytes_(job.bytes)}{files}")
    yield Metric("backup_bytes", job.bytes)
    if job.files is not None:
        yield Metric("backup_files", job.files)
    if job.duration_s is not None:
        yield Metric("backup_duration_seconds", job.duration_s)
    same = [run.bytes for run in earlier if run.level == job.level and run.bytes is not None]
    if len(same) >= USUAL_RUNS:
        usual = statistics.median(same)
        if usual > 0 and 100.0 * job.bytes / usual < params.shrink_percent:
            yield Result(State.WARN, f"{render.bytes_(job.bytes)} is {100.0 * job.bytes / usual:.0f}% of its usual "
                         f"{render.bytes_(usual)}: did its data or a mount go?")


def discover_pools(section: Bacula) -> DiscoveryResult:
    for pool in sorted(section.pools):
        yield Service(pool)


def check_pool(item: str, params: PoolParams, section: Bacula, store: ValueStore, now: float) -> CheckResult:
    volumes = section.pools.get(item)
    if volumes is None:
        if "volumes" in section.asked:
            yield vanished(f"pool {item}", section.errors, "not among the director's pools any more")
        else:
            yield Result(State.UNKNOWN, "the volumes were not read" + (f": {section.errors[0]}"
                                                                        if section.errors else ""))
        return
    counts: dict[str, int] = {}
    for volume in volumes:
        counts[volume.status] = counts.get(volume.status, 0) + 1
    total = sum(volume.bytes or 0 for volume in volumes)
    yield Result(State.OK, (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no volumes")
                 + f", {render.bytes_(total)}")
    broken = [volume.name for volume in volumes if volume.status == "Error"]
    if broken:
        yield Result(State(params.error_state), f"in Error: {render.listing(broken)}")
    appendable = counts.get("Append", 0)
    if not appendable:
        yield Result(State(params.no_appendable_state), "no appendable volume: the next job waits unless a volume "
                     "can be recycled or labelled")
    yield Metric("pool_volumes_appendable", appendable)
    yield Metric("pool_bytes", total)


def discover_director(section: Bacula) -> DiscoveryResult:
    if "status" in section.asked or section.errors:
        yield Service()


def check_director(item: str, params: DirectorParams, section: Bacula, store: ValueStore,
                   now: float) -> CheckResult:
    if section.errors:
        yield Result(State.CRIT, f"the director was not asked: {section.errors[0]}")
    if "status" not in section.asked:
        if not section.errors:
            yield Result(State.UNKNOWN, "the director's status was not read")
        return
    names = {job.jobid: job.name for job in section.jobs}
    waiting = [f"{names.get(jobid, f'JobId {jobid}')} {doing}" for jobid, doing in section.running.items()
               if "waiting" in doing]
    yield Result(State.OK, f"version {section.version or 'unknown'}, {len(section.running)} jobs running")
    yield Metric("backup_jobs_running", len(section.running))
    if waiting:
        yield Result(State(params.waiting_state), "waiting: " + "; ".join(waiting[:5])
                     + (f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""))


bacula_job = CheckPlugin(name="bacula_job", section="bacula", title="Backup %s", discover=discover_jobs,
                         check=check_job, default_params=JobParams())
bacula_pool = CheckPlugin(name="bacula_pool", section="bacula", title="Backup pool %s", discover=discover_pools,
                          check=check_pool, default_params=PoolParams())
bacula_director = CheckPlugin(name="bacula_director", section="bacula", title="Bacula director",
                              discover=discover_director, check=check_director, default_params=DirectorParams())
