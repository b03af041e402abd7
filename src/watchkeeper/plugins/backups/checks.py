"""Bacula and Bareos services: each backup job, each pool, and the director.

`Backup JOB`: the newest run. Failed (E, e, f) is CRIT with the reason from its log ("Fatal
error: Unable to connect to Client: ..."); finished with warnings or canceled WARN; still
running is said, WARN while it waits (for a volume, a mount, the storage daemon) or when it
runs three times as long as its usual run. The newest successful run against the job's
schedule as the director tells it (`status schedule`): a scheduled run that passed, plus a
grace of twice the usual run (at least 2 h), without a successful run since is missed: one
missed run WARN, two CRIT. The director lists only future runs, so the past ones are taken
from a schedule that repeats every week (daily, weekdays, weekly: it checks that the next two
weeks are alike); a job with no such schedule is judged by age against `age_seconds` (default
WARN 26 h, CRIT 50 h: one daily run missed, then two). None in the jobs the director listed is
CRIT, and a job that never ran at all is CRIT too. The bytes of the newest successful run
against the usual (the median of the earlier successful runs of the same level, at least
three): less than half is a warning sign (a backup that suddenly shrinks lost its data or its
mount).
`Backup pool POOL`: volumes by status; one in Error is CRIT; no appendable volume WARNs (the
next job waits unless a volume can be recycled or labelled). A pool with a volume count and
size limit and no recycling: the bytes it can still take and when it will be full.
`Bacula director`: its version, running jobs, the jobs that wait (WARN, with what for), the
catalog (CRIT when it answered with an error instead of jobs), and answers that could not be
read (WARN: a JSON error response, an answer cut short).
`Bacula client NAME`, `Bacula storage NAME`: the daemon answers the director (a client that
does not is WARN: its next backup will fail; a storage daemon CRIT: every job that writes to
it will), and the newest run of each job of the client.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
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
DAY = 24 * HOUR
WEEK = 7 * DAY
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
    """WARN when a successful run wrote less than this part of its usual bytes (or files)."""
    never_ran_state: int = 2
    judge_by_schedule: bool = True
    """Judge the newest good run against the director's schedule where it repeats weekly;
    `false`: always by `age_seconds`."""
    schedule_grace_seconds: float = 2 * HOUR
    """At least this long after a scheduled run before it counts as missed (or twice the usual run)."""


@dataclass(frozen=True, slots=True)
class PoolParams:
    error_state: int = 2
    no_appendable_state: int = 1
    time_until_full_seconds: Fixed | None = Fixed(warn=7 * DAY, crit=2 * DAY)
    trend_horizon_seconds: float = DAY


@dataclass(frozen=True, slots=True)
class DirectorParams:
    waiting_state: int = 1
    catalog_error_state: int = 2


@dataclass(frozen=True, slots=True)
class DaemonParams:
    client_unreachable_state: int = 1
    storage_unreachable_state: int = 2


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
        past = _past_runs(section.schedule.get(item, []), now) if params.judge_by_schedule else None
        if past is not None and success.start is not None:
            running = newest.start if newest.status in RUNNING_CODES else None
            yield from _against_schedule(params, section, success, good, past, running, now)
        elif success.end is not None:
            yield from check_levels(max(0.0, now - success.end), levels_upper=params.age_seconds,
                                    metric_name="backup_age_seconds", label="last good backup",
                                    render_func=render.timespan)
            if params.judge_by_schedule and "schedule" in section.asked:
                yield Result(State.OK, "", details=(
                    "Not scheduled in the next 15 days" if item not in section.schedule else
                    "Its schedule does not repeat weekly") + ": its age is judged against age_seconds.")
        yield from _size(params, success, good[:-1])
    else:
        yield Result(State.CRIT, "no successful run in the jobs the director listed")


def _past_runs(future: list[float], now: float) -> list[float] | None:
    """A job's scheduled runs of the last two weeks, newest first, taken from its next two weeks
    when they are alike (within an hour: a change of summer time), else None."""
    first = [at for at in future if now <= at < now + WEEK]
    second = [at for at in future if now + WEEK <= at < now + 2 * WEEK]
    if not first or len(first) != len(second):
        return None
    if any(abs(later - earlier - WEEK) > HOUR for earlier, later in zip(first, second, strict=True)):
        return None
    return sorted((at - shift for at in first for shift in (WEEK, 2 * WEEK)), reverse=True)


def _local(section: Bacula, at: float) -> str:
    return time.strftime("%a %d-%b %H:%M", time.gmtime(at + section.utc_offset))


def _against_schedule(params: JobParams, section: Bacula, success: Job, good: list[Job], past: list[float],
                      running: float | None, now: float) -> CheckResult:
    assert success.start is not None
    durations = [job.duration_s for job in good if job.duration_s is not None]
    grace = max(params.schedule_grace_seconds, 2 * statistics.median(durations) if durations else 0.0)
    covered = max(success.start, running or 0.0) + 60.0  # a run counts for a schedule it started at or after
    missed = [at for at in past if at + grace <= now and at > covered]
    age = max(0.0, now - (success.end or success.start))
    yield Metric("backup_age_seconds", age)
    yield Metric("backup_missed_runs", len(missed))
    if len(missed) >= 2:
        yield Result(State.CRIT, f"missed {len(missed)} scheduled runs since its last good backup "
                     f"{render.timespan(age)} ago (the newest of them {_local(section, missed[0])})")
    elif missed:
        yield Result(State.WARN, f"missed its scheduled run of {_local(section, missed[0])}: last good backup "
                     f"{render.timespan(age)} ago")
    else:
        yield Result(State.OK, f"last good backup {render.timespan(age)} ago")
    upcoming = [at for at in section.schedule.get(success.name, []) if at >= now]
    if upcoming:
        yield Result(State.OK, "", details=f"Next scheduled run {_local(section, upcoming[0])} "
                     f"(in {render.timespan(upcoming[0] - now)}); a run counts as missed {render.timespan(grace)} "
                     "after its scheduled time.")


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
            return
    counts = [run.files for run in earlier if run.level == job.level and run.files is not None]
    if job.files is not None and len(counts) >= USUAL_RUNS:
        usual_files = statistics.median(counts)
        if usual_files > 0 and 100.0 * job.files / usual_files < params.shrink_percent:
            yield Result(State.WARN, f"{job.files:,} files are {100.0 * job.files / usual_files:.0f}% of its usual "
                         f"{usual_files:,.0f}: did its data or a mount go?")


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
    limits = section.pool_limits.get(item)
    capacity = limits.capacity if limits is not None else None
    if limits is None or capacity is None:
        return
    if limits.recycle:
        yield Result(State.OK, "", details="Its volumes are recycled: no forecast of when it is full.")
        return
    left = max(capacity - total, 0)
    yield Result(State.OK, f"{render.bytes_(left)} left of {render.bytes_(capacity)} "
                 f"({limits.max_volumes} volumes of {render.bytes_(limits.max_volume_bytes)})")
    yield Metric("pool_capacity_bytes", capacity)
    yield from check_time_until_full(store, now, total, left, horizon_s=params.trend_horizon_seconds,
                                     levels=params.time_until_full_seconds, metric_prefix="pool")


def discover_director(section: Bacula) -> DiscoveryResult:
    if "status" in section.asked or section.errors or section.unread:
        yield Service()


def check_director(item: str, params: DirectorParams, section: Bacula, store: ValueStore,
                   now: float) -> CheckResult:
    if section.errors:
        yield Result(State.CRIT, f"the director was not asked: {section.errors[0]}")
    if section.unread:
        yield Result(State.WARN, f"{len(section.unread)} answers not read, first: {section.unread[0]}",
                     details="\n".join(section.unread[:20]))
    if "status" not in section.asked:
        if not section.errors:
            yield Result(State.UNKNOWN, "the director's status was not read")
        return
    if section.catalog_errors:
        yield Result(State(params.catalog_error_state),
                     f"the catalog answered with an error: {section.catalog_errors[0]}")
    names = {job.jobid: job.name for job in section.jobs}
    waiting = [f"{names.get(jobid, f'JobId {jobid}')} {doing}" for jobid, doing in section.running.items()
               if "waiting" in doing]
    yield Result(State.OK, f"version {section.version or 'unknown'}, {len(section.running)} jobs running")
    yield Metric("backup_jobs_running", len(section.running))
    if waiting:
        yield Result(State(params.waiting_state), "waiting: " + "; ".join(waiting[:5])
                     + (f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""))


def discover_daemons(kind: str) -> Callable[[Bacula], DiscoveryResult]:
    def discover(section: Bacula) -> DiscoveryResult:
        names = section.clients if kind == "client" else section.storages
        for name in sorted(set(names) | {name for known, name in section.daemons if known == kind}):
            yield Service(name)
    return discover


def check_daemon(kind: str) -> Callable[[str, DaemonParams, Bacula, ValueStore, float], CheckResult]:
    def check(item: str, params: DaemonParams, section: Bacula, store: ValueStore, now: float) -> CheckResult:
        said = section.daemons.get((kind, item))
        if said is None:
            names = section.clients if kind == "client" else section.storages
            if "daemons" not in section.asked:
                yield Result(State.UNKNOWN, f"the {kind} daemons were not asked" + (
                    f": {section.errors[0]}" if section.errors else " (the agent's `daemons` is off)"))
            elif item not in names:
                yield vanished(f"{kind} {item}", section.errors, "not defined on the director any more")
            else:
                yield Result(State.UNKNOWN, f"the agent did not ask {item}: more daemons than it asks in one run")
            return
        unreachable = State(params.client_unreachable_state if kind == "client" else params.storage_unreachable_state)
        if said.state == "ok":
            yield Result(State.OK, f"answers the director, version {said.text}")
        elif said.state == "timeout":
            yield Result(unreachable, f"did not answer the director's status: {said.text}")
        elif said.state == "skipped":
            yield Result(State.UNKNOWN, f"not asked: {said.text}")
        else:
            yield Result(unreachable, f"the director cannot reach it: {said.text}")
        if kind == "client":
            yield from _client_jobs(section, item)
    return check


def _client_jobs(section: Bacula, client: str) -> CheckResult:
    newest: dict[str, Job] = {}
    for job in section.jobs:
        if job.client == client and job.type in ("B", ""):
            newest[job.name] = job
    if not newest:
        return
    failed = sorted(name for name, job in newest.items() if job.status in FAILED_CODES)
    good = sum(1 for job in newest.values() if job.status in OK_CODES | WARNING_CODES)
    text = f"{len(newest)} backup jobs, newest runs: {good} OK"
    if failed:
        text += f", {len(failed)} failed ({render.listing(failed)})"
    yield Result(State.OK, text)


bacula_job = CheckPlugin(name="bacula_job", section="bacula", title="Backup %s", discover=discover_jobs,
                         check=check_job, default_params=JobParams())
bacula_pool = CheckPlugin(name="bacula_pool", section="bacula", title="Backup pool %s", discover=discover_pools,
                          check=check_pool, default_params=PoolParams())
bacula_director = CheckPlugin(name="bacula_director", section="bacula", title="Bacula director",
                              discover=discover_director, check=check_director, default_params=DirectorParams())
bacula_client = CheckPlugin(name="bacula_client", section="bacula", title="Bacula client %s",
                            discover=discover_daemons("client"), check=check_daemon("client"),
                            default_params=DaemonParams())
bacula_storage = CheckPlugin(name="bacula_storage", section="bacula", title="Bacula storage %s",
                             discover=discover_daemons("storage"), check=check_daemon("storage"),
                             default_params=DaemonParams())
