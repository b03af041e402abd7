"""What the API and the pages show, read from the store: services with their acknowledgement
and downtime flags, metric series for a range, counts by state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from watchkeeper.errors import WatchkeeperError
from watchkeeper.model.notifications import Acknowledgement, Downtime
from watchkeeper.model.states import NAMES
from watchkeeper.model.verdicts import unit_of
from watchkeeper.store.database import MetricPoint, ServiceRow, Store
from watchkeeper.store.notify_tables import NotifyTables
from watchkeeper.web.api_models import HostOut, MetricsOut, SeriesOut, ServiceOut
from watchkeeper.web.errors import ApiError
from watchkeeper.web.series import GRAPH_POINTS, downsample

PROBLEM_ORDER = {2: 0, 3: 1, 1: 2}
"""CRIT first, then UNKNOWN, then WARN."""


@dataclass(frozen=True, slots=True)
class Marks:
    """Acknowledgements and downtimes, loaded once per request."""

    acks: dict[tuple[str, str], Acknowledgement]
    downtimes: list[Downtime]
    now: float

    @classmethod
    def load(cls, store: Store) -> Marks:
        tables = NotifyTables(store)
        return cls(tables.acknowledgements(), tables.downtimes(), time.time())

    def in_downtime(self, host: str, service: str) -> bool:
        return any(d.covers(host, service, self.now) for d in self.downtimes)


def service_out(row: ServiceRow, marks: Marks) -> ServiceOut:
    return ServiceOut(host=row.host, name=row.name, plugin=row.plugin, item=row.item,
                      state=NAMES.get(row.state, "UNKNOWN"),  # type: ignore[arg-type]
                      state_code=row.state, stale=row.stale, summary=row.summary, details=row.details,
                      last_check=row.last_check, last_change=row.last_change,
                      acknowledged=(row.host, row.name) in marks.acks,
                      in_downtime=bool(marks.downtimes) and marks.in_downtime(row.host, row.name))


def host_out(store: Store, name: str) -> HostOut:
    row = store.host(name)
    return HostOut(name=row.config.name, uri=row.config.uri, interval_s=row.config.interval_s,
                   options=row.config.options, state=row.state, state_since=row.state_since,
                   last_fetch=row.last_fetch, last_ok=row.last_ok, last_error=row.last_error)


def is_problem(service: ServiceOut) -> bool:
    return service.state_code in PROBLEM_ORDER


def unhandled(service: ServiceOut) -> bool:
    return is_problem(service) and not service.acknowledged and not service.in_downtime


def problems(store: Store, marks: Marks) -> list[ServiceOut]:
    """Services in WARN, CRIT or UNKNOWN, worst and longest-standing first."""
    rows = [ServiceRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8], r[9]) for r in store.query(
        "SELECT host, name, plugin, item, state, stale, summary, details, last_check, last_change FROM services "
        "WHERE state IN (1, 2, 3)")]
    found = [service_out(row, marks) for row in rows]
    found.sort(key=lambda s: (PROBLEM_ORDER[s.state_code], s.last_change or 0.0, s.host, s.name))
    return found


def find_services(store: Store, marks: Marks, host: str | None, states: set[str], text: str,
                  problems_only: bool) -> Iterator[ServiceOut]:
    """Services of a host (or all), in these states, with `text` in host, name or summary."""
    needle = text.lower()
    for row in store.services(host):
        if states and NAMES.get(row.state) not in states:
            continue
        if needle and needle not in f"{row.host}\t{row.name}\t{row.summary}".lower():
            continue
        service = service_out(row, marks)
        if problems_only and not unhandled(service):
            continue
        yield service


def state_counts(store: Store) -> dict[str, int]:
    counts = {name: 0 for name in ("CRIT", "UNKNOWN", "WARN", "OK", "PENDING")}
    for state, n in store.query("SELECT state, count(*) FROM services GROUP BY state"):
        counts[NAMES.get(state, "UNKNOWN")] += n
    return counts


class MetricSource(Protocol):
    """Where graph points come from instead of the embedded store (a PromQL database)."""

    def points(self, host: str, service: str, metric: str, start: float, end: float,
               step: float = 60.0) -> list[MetricPoint]: ...


def metrics(store: Store, host: str, service: str, start: float, end: float,
            resolution: float | None = None, source: MetricSource | None = None) -> MetricsOut:
    """Every metric of a service between start and end; `resolution` (seconds) merges finer points."""
    store.service(host, service)
    step = resolution or max((end - start) / GRAPH_POINTS, 60.0)
    levels = store.metric_levels(host, service)
    series = []
    for name in store.metric_names(host, service):
        if source is None:
            points = store.metric_points(host, service, name, start, end)
        else:
            try:
                points = source.points(host, service, name, start, end, step)
            except WatchkeeperError as exc:
                raise ApiError(502, str(exc)) from exc
        if points and len(points) > 1 and points[1].ts - points[0].ts < step:
            points = downsample(points, step)
        warn, crit = levels.get(name, (None, None))
        series.append(SeriesOut(metric=name, unit=unit_of(name), warn=warn, crit=crit,
                                points=[(p.ts, p.avg, p.lo, p.hi) for p in points]))
    return MetricsOut(host=host, service=service, start=start, end=end, step=step, series=series)


def soonest_full(store: Store, limit: int = 10, now: float | None = None) -> list[tuple[str, str, float]]:
    """(host, service, seconds until full) of the checks whose own trend says they fill soonest
    (their newest `_time_until_full_seconds`, not older than a day)."""
    since = (time.time() if now is None else now) - 86400
    return [(host, service, float(value)) for host, service, value in store.query(
        "SELECT s.host, s.service, h.last_value FROM metric_series s JOIN metric_heads h ON h.series = s.id "
        "WHERE h.tier = 0 AND s.metric LIKE '%\\_time\\_until\\_full\\_seconds' ESCAPE '\\' "
        "AND h.last_value IS NOT NULL AND h.last_ts >= ? ORDER BY h.last_value LIMIT ?", (since, limit))]


def recent_changes(store: Store, limit: int = 15) -> list[tuple[str, str, float, int, int, str]]:
    """(host, service, when, state, stale, summary) of the newest state changes, newest first."""
    return [tuple(row) for row in store.query(
        "SELECT host, service, ts, state, stale, summary FROM state_history ORDER BY id DESC LIMIT ?", (limit,))]


def notifications_today(store: Store, now: float | None = None) -> dict[str, int]:
    """Messages created since local midnight, by status (sent, pending, failed...)."""
    moment = time.localtime(time.time() if now is None else now)
    midnight = time.mktime((moment.tm_year, moment.tm_mon, moment.tm_mday, 0, 0, 0, 0, 0, -1))
    return {status: n for status, n in store.query(
        "SELECT status, count(*) FROM notify_spool WHERE created >= ? AND status != 'merged' GROUP BY status",
        (midnight,))}
