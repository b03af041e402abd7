"""The embedded store: hosts, rules, discovered services, current state, state history, value
stores and metric history, in one SQLite database in WAL mode.

Writes come in batches (`write_cycles`): one transaction for many hosts' cycles, so the
daemon commits a few times a second however many services it checks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from watchkeeper.errors import ConfigError, NotFound, StoreError
from watchkeeper.model.cycles import AGENT_SERVICE, DISCOVERY_SERVICE, HostCycle, ServiceSpec
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.rules import Rule
from watchkeeper.store import metric_history
from watchkeeper.store.metric_history import MetricWriter, head_key
from watchkeeper.store.migrate import convert_metric_points
from watchkeeper.store.schema import (
    CHUNK_TABLES,
    CONFIG_COUNTERS,
    METRIC_TIERS,
    PAGE_SIZE,
    SCHEMA,
    SCHEMA_VERSION,
    add_missing_columns,
)

log = logging.getLogger(__name__)

INTERNAL_SERVICES = (AGENT_SERVICE, DISCOVERY_SERVICE)
INTERNAL_PLUGIN = ""
NOT_AGENT_PLUGINS = (INTERNAL_PLUGIN, "active", "passive")
"""Services that no agent section feeds: Watchkeeper's own, and active and passive checks."""


@dataclass(frozen=True, slots=True)
class HostRow:
    config: HostConfig
    state: str
    state_since: float | None
    last_fetch: float | None
    last_ok: float | None
    last_error: str


@dataclass(frozen=True, slots=True)
class ServiceRow:
    host: str
    name: str
    plugin: str
    item: str
    state: int
    stale: bool
    summary: str
    details: str
    last_check: float | None
    last_change: float | None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    ts: float
    state: int
    stale: bool
    summary: str


NamedSample = tuple[str, str, str, float, float]
"""(host, service, metric, ts, value)."""


class MetricPoint(NamedTuple):
    """A tuple: a graph reads thousands, and a dataclass's __init__ was half of an 8-day read."""

    ts: float
    avg: float
    lo: float
    hi: float


def _host_row(r: tuple[Any, ...]) -> HostRow:
    return HostRow(HostConfig(r[0], r[1], r[2], json.loads(r[3])), r[4], r[5], r[6], r[7], r[8])


def _translate(exc: sqlite3.Error, path: Path, doing: str) -> StoreError:
    message = str(exc)
    hint = ""
    if "full" in message:
        hint = " Free space on that filesystem; results are kept in memory and written when it works again."
    elif "locked" in message or "busy" in message:
        hint = " Another process holds a long write lock; is a second daemon running on the same store?"
    elif "malformed" in message or "not a database" in message:
        hint = " The file is damaged: restore it from a backup, or move it away to start afresh."
    return StoreError(f"store {path}: {doing} failed: {message}.{hint}")


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Created 0600 before SQLite opens it: its -wal and -shm files take the same mode.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
            self.db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # takes effect in a new file only
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a crash of the process loses nothing
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)
            add_missing_columns(self.db)
            self.db.executescript(CONFIG_COUNTERS)
            self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                            (str(SCHEMA_VERSION),))
        except sqlite3.Error as exc:
            raise _translate(exc, path, "opening") from exc
        except OSError as exc:
            raise StoreError(f"store {path}: cannot create its directory: {exc.strerror}") from exc
        convert_metric_points(self.db, self.transaction)  # a store of format 1, once
        self._series: dict[str, dict[str, dict[str, int]]] = {}
        """host -> service -> metric -> series id, as written by this connection (nested: a lookup per
        sample of one tuple of three strings was a sixth of writing a batch)."""
        self._states: dict[str, dict[str, tuple[int, int]]] = {}
        """Each host's services' (state, stale) as last committed by `write_cycles`, to tell a change
        without reading them back; dropped when `services_generation` moves."""
        self._states_generation = 0
        self.services_generation = 0
        """Moved on (by the daemon, from any thread) when services may have been removed and added
        again elsewhere: a service added anew is PENDING, whatever was remembered of it."""
        self._levels: dict[int, tuple[float, float] | None] = {}
        """Levels last written per series: they are written only when a check's levels change."""
        self.metrics = MetricWriter()
        """The metric history's writing side: only the connection that writes cycles uses it."""
        self.outbox: Callable[[sqlite3.Connection, list[NamedSample]], None] | None = None
        """Given every batch's samples by name inside its transaction (remote write queues them there)."""

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:  # SQLite has already rolled back after some errors (disk full)
                    with contextlib.suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _translate(exc, self.path, doing) from exc

    def close(self) -> None:
        self.db.close()

    def query(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc, self.path, "reading") from exc

    def config_counters(self) -> dict[str, int]:
        """Per configuration table, a counter raised by every change to it (`schema.CONFIG_TABLES`)."""
        return {name: int(n) for name, n in self.query("SELECT name, n FROM config_counters")}

    # ------------------------------------------------------------------ hosts
    def add_host(self, host: HostConfig) -> None:
        with self.transaction(f"adding host {host.name}") as db:
            if db.execute("SELECT 1 FROM hosts WHERE name = ?", (host.name,)).fetchone():
                raise ConfigError(f"host {host.name} exists already; remove it first or pick another name")
            self.insert_host(db, host, time.time())

    @staticmethod
    def insert_host(db: sqlite3.Connection, host: HostConfig, now: float) -> None:
        """Inside a transaction: the host and its internal services."""
        db.execute("INSERT INTO hosts (name, uri, interval_s, options, created) VALUES (?, ?, ?, ?, ?)",
                   (host.name, host.uri, host.interval_s, json.dumps(host.options), now))
        if host.uri != "none":  # a host without an agent has no agent to report on
            db.executemany("INSERT INTO services (host, name, plugin, item, accepted) VALUES (?, ?, ?, '', ?)",
                           [(host.name, name, INTERNAL_PLUGIN, now) for name in INTERNAL_SERVICES])

    def remove_host(self, name: str, keep_history: bool = False) -> None:
        """`keep_history`: its state changes and metrics stay (shown again if the host comes back)."""
        with self.transaction(f"removing host {name}") as db:
            if not self.delete_host(db, name, keep_history):
                raise NotFound(f"there is no host {name!r}; `watchkeeper host list` shows the hosts")

    def delete_host(self, db: sqlite3.Connection, name: str, keep_history: bool = False) -> bool:
        """Inside a transaction; False when there is no such host."""
        if db.execute("DELETE FROM hosts WHERE name = ?", (name,)).rowcount == 0:
            return False
        db.execute("DELETE FROM services WHERE host = ?", (name,))
        db.execute("DELETE FROM value_store WHERE host = ?", (name,))
        db.execute("DELETE FROM active_checks WHERE host = ?", (name,))
        db.execute("DELETE FROM passive_inbox WHERE host = ?", (name,))
        db.execute("DELETE FROM piggyback_targets WHERE source = ?", (name,))  # its VMs: no longer listed
        db.execute("DELETE FROM ignored_services WHERE host = ?", (name,))
        self.forget_host(name)
        if keep_history:
            return True
        db.execute("DELETE FROM state_history WHERE host = ?", (name,))
        series = [row[0] for row in db.execute("SELECT id FROM metric_series WHERE host = ?", (name,))]
        for table in CHUNK_TABLES:
            db.executemany(f"DELETE FROM {table} WHERE series = ?", [(s,) for s in series])
        keys = [(head_key(s, 0), head_key(s, len(METRIC_TIERS) - 1)) for s in series]
        db.executemany("DELETE FROM metric_heads WHERE key BETWEEN ? AND ?", keys)
        db.executemany("DELETE FROM metric_segments WHERE key BETWEEN ? AND ?", keys)
        db.executemany("DELETE FROM metric_levels WHERE series = ?", [(s,) for s in series])
        db.execute("DELETE FROM metric_series WHERE host = ?", (name,))
        return True

    def update_host(self, host: HostConfig) -> None:
        """A new address, interval or options; the daemon reconnects on its next reload."""
        with self.transaction(f"updating host {host.name}") as db:
            if db.execute("UPDATE hosts SET uri = ?, interval_s = ?, options = ? WHERE name = ?",
                          (host.uri, host.interval_s, json.dumps(host.options), host.name)).rowcount == 0:
                raise NotFound(f"there is no host {host.name!r}; `watchkeeper host list` shows the hosts")

    _HOST_COLUMNS = "name, uri, interval_s, options, state, state_since, last_fetch, last_ok, last_error"

    def hosts(self) -> list[HostRow]:
        return [_host_row(r) for r in self.query(f"SELECT {self._HOST_COLUMNS} FROM hosts ORDER BY name")]

    def host(self, name: str) -> HostRow:
        rows = self.query(f"SELECT {self._HOST_COLUMNS} FROM hosts WHERE name = ?", (name,))
        if not rows:
            raise NotFound(f"there is no host {name!r}; `watchkeeper host list` shows the hosts")
        return _host_row(rows[0])

    # ------------------------------------------------------------------ services
    def service_specs(self, host: str) -> list[ServiceSpec]:
        rows = self.query("SELECT name, plugin, item, facts FROM services WHERE host = ? "
                           "AND plugin NOT IN (?, ?, ?) ORDER BY name", (host, *NOT_AGENT_PLUGINS))
        return [ServiceSpec(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def accept_services(self, host: str, add: Iterable[ServiceSpec], remove: Iterable[str] = ()) -> None:
        now = time.time()
        with self.transaction(f"accepting services of {host}") as db:
            db.executemany(
                "INSERT INTO services (host, name, plugin, item, facts, accepted) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (host, name) DO UPDATE SET plugin = excluded.plugin, item = excluded.item, "
                "facts = excluded.facts, accepted = excluded.accepted",
                [(host, s.name, s.plugin, s.item, json.dumps(s.facts), now) for s in add])
            names = [(host, name) for name in remove if name not in INTERNAL_SERVICES]
            db.executemany("DELETE FROM services WHERE host = ? AND name = ?", names)
            db.executemany("DELETE FROM value_store WHERE host = ? AND service = ?", names)

    def ignored_services(self, host: str) -> list[str]:
        """Names discovery finds on the host and is not to offer again."""
        return [r[0] for r in self.query("SELECT name FROM ignored_services WHERE host = ? ORDER BY name", (host,))]

    def ignore_services(self, host: str, names: Iterable[str], author: str) -> None:
        """Never offered again by discovery; a monitored one among them stops being monitored."""
        now = time.time()
        rows = [(host, name) for name in names if name not in INTERNAL_SERVICES]
        with self.transaction(f"ignoring services of {host}") as db:
            db.executemany("INSERT OR IGNORE INTO ignored_services (host, name, author, created) VALUES (?, ?, ?, ?)",
                           [(*row, author, now) for row in rows])
            db.executemany("DELETE FROM services WHERE host = ? AND name = ?", rows)
            db.executemany("DELETE FROM value_store WHERE host = ? AND service = ?", rows)

    def unignore_services(self, host: str, names: Iterable[str]) -> None:
        with self.transaction(f"offering ignored services of {host} again") as db:
            db.executemany("DELETE FROM ignored_services WHERE host = ? AND name = ?", [(host, n) for n in names])

    def services(self, host: str | None = None) -> list[ServiceRow]:
        sql = ("SELECT host, name, plugin, item, state, stale, summary, details, last_check, last_change "
               "FROM services")
        rows = self.query(sql + (" WHERE host = ?" if host else "") + " ORDER BY host, name",
                           (host,) if host else ())
        return [ServiceRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8], r[9]) for r in rows]

    def service(self, host: str, name: str) -> ServiceRow:
        rows = self.query("SELECT host, name, plugin, item, state, stale, summary, details, last_check, last_change "
                          "FROM services WHERE host = ? AND name = ?", (host, name))
        if not rows:
            raise NotFound(f"{host} has no service {name!r}; `watchkeeper status {host}` lists them")
        r = rows[0]
        return ServiceRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8], r[9])

    def history(self, host: str, service: str, limit: int = 100) -> list[HistoryRow]:
        rows = self.query("SELECT ts, state, stale, summary FROM state_history WHERE host = ? AND service = ? "
                           "ORDER BY ts DESC, id DESC LIMIT ?", (host, service, limit))
        return [HistoryRow(r[0], r[1], bool(r[2]), r[3]) for r in rows]

    def value_stores(self, host: str) -> dict[str, dict[str, Any]]:
        rows = self.query("SELECT service, data FROM value_store WHERE host = ?", (host,))
        stores: dict[str, dict[str, Any]] = {}
        for service, data in rows:
            try:
                loaded = json.loads(data)
            except ValueError:
                continue  # a damaged value store only costs one cycle of rates: start afresh
            if isinstance(loaded, dict):
                stores[service] = loaded
        return stores

    # ------------------------------------------------------------------ rules
    def add_rule(self, plugin: str, params: dict[str, Any], host_glob: str = "*", item_glob: str = "*",
                 comment: str = "", host_labels: dict[str, str] | None = None) -> int:
        with self.transaction("adding a rule") as db:
            cursor = db.execute("INSERT INTO rules (plugin, host_glob, item_glob, params, comment, created, "
                                "host_labels) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (plugin, host_glob, item_glob, json.dumps(params), comment, time.time(),
                                 json.dumps(host_labels or {})))
            return int(cursor.lastrowid or 0)

    def remove_rule(self, rule_id: int) -> None:
        with self.transaction("removing a rule") as db:
            if db.execute("DELETE FROM rules WHERE id = ?", (rule_id,)).rowcount == 0:
                raise NotFound(f"there is no rule {rule_id}; `watchkeeper rule list` shows them")

    def rules(self) -> list[Rule]:
        rows = self.query("SELECT id, plugin, host_glob, item_glob, params, comment, host_labels "
                          "FROM rules ORDER BY id")
        return [Rule(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], json.loads(r[6])) for r in rows]

    # ------------------------------------------------------------------ cycles
    def write_cycles(self, cycles: Sequence[HostCycle], value_stores: Sequence[tuple[str, str, str]] = ()) -> None:
        """Store many host cycles in one transaction: states, changes, value stores, metrics.

        `value_stores`: (host, service, JSON) already serialised, besides the cycles' own."""
        if not cycles and not value_stores and not self.metrics.rollups.closed:
            return
        with self.transaction(f"storing {len(cycles)} host cycles") as db:
            updates: list[tuple[object, ...]] = []
            changes: list[tuple[object, ...]] = []
            created: dict[tuple[str, str, str], int] = {}
            """Series new in this batch: remembered once it has committed (a rolled-back id may be reused)."""
            stores: list[tuple[str, str, str]] = list(value_stores)
            samples: list[tuple[int, float, float]] = []
            named: list[NamedSample] | None = [] if self.outbox is not None else None
            levels: dict[int, tuple[float, float] | None] = {}
            known_levels = self._levels
            # A batch may hold several cycles of one host: compare each with the one before it.
            generation = self.services_generation
            if generation != self._states_generation:
                self._states, self._states_generation = {}, generation
            current: dict[str, dict[str, tuple[int, int]]] = {}
            read_back: set[str] = set()
            for cycle in cycles:
                if not cycle.partial:
                    self._write_host_state(db, cycle, changes)
                host_series = self._series.setdefault(cycle.host, {})
                previous = current.get(cycle.host)
                if previous is None:
                    remembered = self._states.get(cycle.host)
                    if remembered is None:
                        read_back.add(cycle.host)
                        previous = current[cycle.host] = self._read_states(db, cycle.host)
                    else:
                        previous = current[cycle.host] = dict(remembered)
                now = cycle.started
                for outcome in cycle.outcomes:
                    before = previous.get(outcome.name)
                    if before is None and cycle.host not in read_back:  # a service accepted since
                        read_back.add(cycle.host)
                        previous.update({name: states for name, states in self._read_states(db, cycle.host).items()
                                         if name not in previous})
                        before = previous.get(outcome.name)
                    if before is None:
                        continue  # removed by discovery while this cycle ran
                    after = (outcome.state, int(outcome.stale))
                    changed = before != after
                    previous[outcome.name] = after
                    updates.append((outcome.state, int(outcome.stale), outcome.summary, outcome.details, now,
                                    now if changed else None, now, cycle.host, outcome.name))
                    if changed:
                        changes.append((cycle.host, outcome.name, now, outcome.state, int(outcome.stale),
                                        outcome.summary))
                    if not outcome.metrics:
                        continue
                    service_series = host_series.get(outcome.name)
                    if service_series is None:
                        service_series = host_series[outcome.name] = {}
                    for metric in outcome.metrics:
                        value = metric.value
                        if math.isfinite(value):
                            series = service_series.get(metric.name)
                            if series is None:
                                key = (cycle.host, outcome.name, metric.name)
                                series = created.get(key)
                                if series is None:
                                    series = created[key] = self._series_id(db, *key)
                            if levels.get(series, known_levels.get(series, False)) != metric.levels:
                                levels[series] = metric.levels
                            samples.append((series, now, value))
                            if named is not None:
                                named.append((cycle.host, outcome.name, metric.name, now, value))
                for service, data in cycle.value_stores.items():
                    stores.append((cycle.host, service, json.dumps(data, separators=(",", ":"))))
            db.executemany("UPDATE services SET state = ?, stale = ?, summary = ?, details = ?, last_check = ?, "
                           "last_change = coalesce(?, last_change, ?) WHERE host = ? AND name = ?", updates)
            db.executemany("INSERT INTO state_history (host, service, ts, state, stale, summary) "
                           "VALUES (?, ?, ?, ?, ?, ?)", changes)
            db.executemany("INSERT INTO value_store (host, service, data) VALUES (?, ?, ?) "
                           "ON CONFLICT (host, service) DO UPDATE SET data = excluded.data", stores)
            written = self.metrics.write(db, samples)
            if self.outbox is not None and named:
                try:
                    self.outbox(db, named)
                except sqlite3.Error:
                    raise  # the store itself fails (a full disk): the batch is written again later
                except Exception:  # a bug there must not stop the results from being stored
                    log.exception("remote write: %d samples of this batch could not be queued", len(named))
            db.executemany("INSERT INTO metric_levels (series, warn, crit) VALUES (?, ?, ?) "
                           "ON CONFLICT (series) DO UPDATE SET warn = excluded.warn, crit = excluded.crit",
                           [(series, *(pair or (None, None))) for series, pair in levels.items()])
        # only once committed: a failed batch is written again, levels, states and samples too
        self._levels.update(levels)
        for (host, service, metric_name), series in created.items():
            self._series.setdefault(host, {}).setdefault(service, {})[metric_name] = series
        if self.services_generation == generation:
            self._states.update(current)
        written()

    @staticmethod
    def _read_states(db: sqlite3.Connection, host: str) -> dict[str, tuple[int, int]]:
        return {name: (state, stale) for name, state, stale in db.execute(
            "SELECT name, state, stale FROM services WHERE host = ?", (host,))}

    def forget_host(self, name: str) -> None:
        """Drop what this connection remembers of a host removed elsewhere (the CLI, another thread)."""
        self._states.pop(name, None)
        gone = {series for metrics in self._series.pop(name, {}).values() for series in metrics.values()}
        for series_id in gone:
            self._levels.pop(series_id, None)
        self.metrics.forget(gone)

    def _write_host_state(self, db: sqlite3.Connection, cycle: HostCycle,
                          changes: list[tuple[object, ...]]) -> None:
        state = "UP" if cycle.up else "DOWN"
        row = db.execute("SELECT state FROM hosts WHERE name = ?", (cycle.host,)).fetchone()
        if row is None:
            return
        changed = row[0] != state
        db.execute("UPDATE hosts SET state = ?, state_since = CASE WHEN ? THEN ? ELSE state_since END, "
                   "last_fetch = ?, last_ok = CASE WHEN ? THEN ? ELSE last_ok END, last_error = ? "
                   "WHERE name = ?", (state, changed, cycle.started, cycle.started, cycle.up, cycle.started,
                                      cycle.error, cycle.host))
        if changed:
            changes.append((cycle.host, "", cycle.started, 0 if cycle.up else 2, 0,
                            f"host {state}" + (f": {cycle.error}" if cycle.error else "")))

    @staticmethod
    def _series_id(db: sqlite3.Connection, host: str, service: str, metric: str) -> int:
        key = (host, service, metric)
        db.execute("INSERT OR IGNORE INTO metric_series (host, service, metric) VALUES (?, ?, ?)", key)
        return int(db.execute("SELECT id FROM metric_series WHERE host = ? AND service = ? AND metric = ?",
                              key).fetchone()[0])

    # ------------------------------------------------------------------ metrics
    def metric_names(self, host: str, service: str) -> list[str]:
        return [r[0] for r in self.query("SELECT metric FROM metric_series WHERE host = ? AND service = ? "
                                          "ORDER BY metric", (host, service))]

    def metric_levels(self, host: str, service: str) -> dict[str, tuple[float | None, float | None]]:
        """(warn, crit) of each metric as the check last gave them; a metric without levels is absent."""
        rows = self.query("SELECT s.metric, l.warn, l.crit FROM metric_series s JOIN metric_levels l "
                          "ON l.series = s.id WHERE s.host = ? AND s.service = ?", (host, service))
        return {r[0]: (r[1], r[2]) for r in rows if r[1] is not None or r[2] is not None}

    def metric_points(self, host: str, service: str, metric: str, start: float, end: float,
                      now: float | None = None) -> list[MetricPoint]:
        """Points between start and end from the finest tier that still covers `start`; a coarse
        tier's bucket not written yet (it is written when it closes) is summed from the 1-minute tier."""
        now = time.time() if now is None else now
        tier = next((index for index, (step, slots) in enumerate(METRIC_TIERS) if now - start <= step * slots),
                    len(METRIC_TIERS) - 1)
        step = METRIC_TIERS[tier][0]
        row = self.query("SELECT id FROM metric_series WHERE host = ? AND service = ? AND metric = ?",
                         (host, service, metric))
        if not row:
            return []
        series = int(row[0][0])
        first, last = int(start // step), int(end // step)
        try:
            buckets = metric_history.read(self.db, series, tier, first, last)
            if tier:
                fine = METRIC_TIERS[0][0]
                since = max(first, buckets[-1][0] + 1 if buckets else first)  # the coarse buckets not written yet
                open_buckets: dict[int, list[float]] = {}
                for bucket, n, total, lo, hi in metric_history.read(self.db, series, 0, since * step // fine,
                                                                    (last + 1) * step // fine - 1):
                    coarse = bucket * fine // step
                    acc = open_buckets.get(coarse)
                    if acc is None:
                        open_buckets[coarse] = [n, total, lo, hi]
                    else:
                        acc[0] += n
                        acc[1] += total
                        acc[2] = min(acc[2], lo)
                        acc[3] = max(acc[3], hi)
                buckets += [(coarse, int(n), total, lo, hi)
                            for coarse, (n, total, lo, hi) in sorted(open_buckets.items())]
        except sqlite3.Error as exc:
            raise _translate(exc, self.path, "reading metric history") from exc
        return [MetricPoint(bucket * step, total / n, lo, hi) for bucket, n, total, lo, hi in buckets]

    def remote_write_backlog(self) -> dict[str, int]:
        """Remote-write requests waiting to be sent, and the samples dropped over the queue's limit."""
        requests, samples, size = self.query("SELECT count(*), coalesce(sum(samples), 0), "
                                             "coalesce(sum(length(body)), 0) FROM remote_write_queue")[0]
        dropped = self.query("SELECT value FROM meta WHERE key = 'remote_write_dropped_samples'")
        return {"requests": int(requests), "samples": int(samples), "bytes": int(size),
                "dropped_samples": int(dropped[0][0]) if dropped else 0}

    def latest_metrics(self, since: float = 0.0) -> list[tuple[str, str, str, float, float | None, float | None]]:
        """(host, service, metric, newest value, warn, crit) of every series sampled since `since`."""
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in self.query(
            "SELECT s.host, s.service, s.metric, h.last_value, l.warn, l.crit FROM metric_heads h "
            "JOIN metric_series s ON s.id = h.series LEFT JOIN metric_levels l ON l.series = s.id "
            "WHERE h.tier = 0 AND h.last_ts >= ? ORDER BY s.host, s.service, s.metric", (since,))]
