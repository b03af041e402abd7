"""Baseline rules, and each matched series' baseline as last computed (`model/baselines.py`).

`compute_all` reads each matched series' 5-minute tier (the 1-hour tier for more weeks than
it keeps) and writes every baseline in one transaction; the daemon runs it every hour and
when a rule changes, and the scheduler reads the baselines when they change.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from watchkeeper.errors import ConfigError, NotFound
from watchkeeper.model.baselines import WEEK, Baseline, BaselineRule, compute, hour_of_week, update
from watchkeeper.store import metric_history
from watchkeeper.store.database import Store
from watchkeeper.store.periodic import run_periodically
from watchkeeper.store.schema import METRIC_TIERS

log = logging.getLogger(__name__)

TIER_5_MINUTES = 1


@dataclass(frozen=True, slots=True)
class Computed:
    series: int
    rules: int
    active: int
    seconds: float


class BaselineTables:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add_rule(self, rule: BaselineRule) -> int:
        with self.store.transaction("adding a baseline rule") as db:
            cursor = db.execute("INSERT INTO baseline_rules (settings, created) VALUES (?, ?)",
                                (json.dumps(rule.settings()), time.time()))
            return int(cursor.lastrowid or 0)

    def remove_rule(self, rule_id: int) -> None:
        with self.store.transaction("removing a baseline rule") as db:
            if db.execute("DELETE FROM baseline_rules WHERE id = ?", (rule_id,)).rowcount == 0:
                raise NotFound(f"there is no baseline rule {rule_id}; `watchkeeper baseline list` shows them")
            db.execute("DELETE FROM metric_baselines WHERE rule = ?", (rule_id,))

    def rules(self) -> list[BaselineRule]:
        return [BaselineRule.from_settings(rule_id, json.loads(settings)) for rule_id, settings in
                self.store.query("SELECT id, settings FROM baseline_rules ORDER BY id")]

    def compute_all(self, now: float, utc_offset_s: float | None = None) -> Computed:
        """Every matched series' baseline, in one transaction; baselines of series no rule
        matches any more are dropped. A baseline computed lately for the same rule learns only
        the hours of the week that passed since (their values over the rule's weeks); a new one,
        or one whose rule changed, learns all 168 from the whole range."""
        started = time.process_time()
        offset = _local_offset(now) if utc_offset_s is None else utc_offset_s
        rules = self.rules()
        before = self._stored()
        rows: list[tuple[int, str, str, str, int, str, float]] = []
        active = 0
        for series, host, service, metric, rule in self._matches(rules):
            old = before.get(series)
            recent = old is not None and 0 <= now - old.computed < WEEK / 2
            if old is not None and recent and old.rule == rule and old.utc_offset_s == offset:
                baseline = self._learn_since(series, old, now)
            else:
                baseline = compute(rule, self._points(series, rule, now), now, offset)
            active += baseline.active
            rows.append((series, host, service, metric, rule.id, json.dumps(baseline.to_json()), now))
        with self.store.transaction(f"storing {len(rows)} baselines") as db:
            db.execute("DELETE FROM metric_baselines")
            db.executemany("INSERT INTO metric_baselines (series, host, service, metric, rule, data, computed) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return Computed(len(rows), len(rules), active, time.process_time() - started)

    def _matches(self, rules: list[BaselineRule]) -> Iterator[tuple[int, str, str, str, BaselineRule]]:
        if not rules:
            return
        metrics = {rule.metric for rule in rules}
        labels = {name: json.loads(options).get("labels") or {} for name, options in
                  self.store.query("SELECT name, options FROM hosts")}
        for series, host, service, metric in self.store.query(
                f"SELECT id, host, service, metric FROM metric_series WHERE metric IN "
                f"({', '.join('?' for _ in metrics)}) ORDER BY id", tuple(metrics)):
            if host not in labels:
                continue  # a removed host's kept history
            rule = next((rule for rule in rules if rule.matches(host, service, metric, labels[host])), None)
            if rule is not None:
                yield series, host, service, metric, rule

    def _learn_since(self, series: int, old: Baseline, now: float) -> Baseline:
        """The hours of the week from the one before the last computation to this one, learned
        again from those hours in each of the rule's weeks."""
        offset = old.utc_offset_s
        start = ((old.computed - 3600 + offset) // 3600) * 3600 - offset  # a local hour's start
        end = ((now + offset) // 3600 + 1) * 3600 - offset
        hours = {hour_of_week(ts, offset) for ts in range(int(start), int(end), 3600)}
        points: list[tuple[float, float, float]] = []
        for week in range(old.rule.weeks, -1, -1):
            points += self._points(series, old.rule, end - week * WEEK, start - week * WEEK)
        return update(old, hours, points, now)

    def _points(self, series: int, rule: BaselineRule, now: float,
                since: float | None = None) -> list[tuple[float, float, float]]:
        since = now - rule.weeks * WEEK if since is None else since
        tier = TIER_5_MINUTES
        step, slots = METRIC_TIERS[tier]
        if rule.weeks * WEEK > step * slots:
            tier = TIER_5_MINUTES + 1
            step = METRIC_TIERS[tier][0]
        return [(bucket * step, total / n, hi) for bucket, n, total, _lo, hi in
                metric_history.read(self.store.db, series, tier, int(since // step), int(now // step) - 1) if n]

    def _stored(self) -> dict[int, Baseline]:
        found = {}
        for series, data in self.store.query("SELECT series, data FROM metric_baselines"):
            try:
                found[int(series)] = Baseline.from_json(json.loads(data))
            except (ValueError, TypeError, KeyError, ConfigError):
                continue  # learned afresh
        return found

    def for_service(self, host: str, service: str) -> dict[str, Baseline]:
        """One service's baselines by metric (for its graphs)."""
        return self.baselines("WHERE host = ? AND service = ?", (host, service)).get(host, {}).get(service, {})

    def baselines(self, where: str = "", args: tuple[str, ...] = ()) -> dict[str, dict[str, dict[str, Baseline]]]:
        """Host -> service -> metric -> its baseline; one that cannot be read is left out and logged."""
        found: dict[str, dict[str, dict[str, Baseline]]] = {}
        for host, service, metric, data in self.store.query(
                f"SELECT host, service, metric, data FROM metric_baselines {where}", args):
            try:
                found.setdefault(host, {}).setdefault(service, {})[metric] = Baseline.from_json(json.loads(data))
            except (ValueError, TypeError, KeyError, ConfigError) as exc:
                log.warning("the baseline of %s/%s %s cannot be read (%s); computed again within the hour",
                            host, service, metric, exc)
        return found


def _local_offset(now: float) -> float:
    return float(time.localtime(now).tm_gmtoff)


COMPUTE_EVERY_S = 3600.0


async def run_computations(database: Path, stop: asyncio.Event) -> None:
    """The daemon's part: compute every hour, and within 30 s of a baseline rule's change."""
    computed_at_counter = [-1]

    def job(store: Store, now: float) -> Computed:
        computed_at_counter[0] = store.config_counters().get("baseline_rules", 0)
        return BaselineTables(store).compute_all(now)

    def rules_changed(store: Store) -> bool:
        return store.config_counters().get("baseline_rules", 0) != computed_at_counter[0]

    def logged(computed: Computed) -> None:
        if computed.series:
            log.info("baselines: %d series of %d rules computed (%d with enough history) in %.2f CPU s",
                     computed.series, computed.rules, computed.active, computed.seconds)

    await run_periodically(database, stop, "baselines", COMPUTE_EVERY_S, job, logged, rules_changed)
