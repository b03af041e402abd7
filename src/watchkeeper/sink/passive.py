"""Passive results into the scheduler: the inbox is read on every flush, and a passive
service that has had no result for longer than its freshness gets one that says so."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from watchkeeper.checkapi import render
from watchkeeper.checkapi.plugin_output import parse_plugin_output, to_metrics
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.cycles import Outcome
from watchkeeper.store.active_tables import ActiveTables

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Freshness:
    check: ActiveCheck
    last_result: float
    """When the latest submitted result arrived (or when watching began)."""
    told_stale: float = 0.0


class PassiveResults:
    def __init__(self, tables: ActiveTables) -> None:
        self.tables = tables
        self.watched: dict[tuple[str, str], Freshness] = {}
        self._taken = 0

    def reload(self, checks: list[ActiveCheck], now: float, last: dict[tuple[str, str], float]) -> None:
        """`last`: when each passive service last had a result (read by the caller)."""
        watched = {}
        for check in checks:
            key = (check.host, check.name)
            known = self.watched.get(key)
            if known is not None and known.check == check:
                watched[key] = known
            else:  # a service never fed counts from now: it has had one freshness period to get a result
                watched[key] = Freshness(check, last.get(key) or now)
        self.watched = watched

    def collect(self, now: float) -> list[tuple[ActiveCheck, Outcome, float]]:
        """Submitted results (oldest first) and freshness verdicts, as (service, outcome, time)."""
        found: list[tuple[ActiveCheck, Outcome, float]] = []
        looked_up: set[tuple[str, str]] = set()
        for row in self.tables.take_inbox():
            self._taken = row.id
            key = (row.host, row.service)
            watch = self.watched.get(key)
            if watch is None and key not in looked_up:
                # Added since the last reload (`service add --passive`, then a result at once): take it now.
                looked_up.add(key)
                check = next((c for c in self.tables.checks(row.host) if c.name == row.service and c.passive), None)
                if check is not None:
                    watch = self.watched[key] = Freshness(check, row.received)
            if watch is None:
                log.warning("a result for %s/%s was dropped: there is no such passive service", row.host, row.service)
                continue
            output = parse_plugin_output(row.output)
            details = output.long_output
            if output.problems:
                details = "\n".join(filter(None, [details, "perfdata ignored: " + "; ".join(output.problems)]))
            summary = output.summary or "(the submitted result has no text)"
            found.append((watch.check, Outcome(row.service, row.state, summary, details,
                                               to_metrics(output.perfdata)), row.received))
            watch.last_result = max(watch.last_result, row.received)
            watch.told_stale = 0.0
        for watch in self.watched.values():
            limit = watch.check.freshness_s
            age = now - watch.last_result
            if not limit or age <= limit or now - watch.told_stale < limit:
                continue
            watch.told_stale = now
            state = watch.check.stale_state
            summary = (f"no result submitted for {render.timespan(age)} (expected at least every "
                       f"{render.timespan(limit)})")
            found.append((watch.check, Outcome(watch.check.name, state, summary, stale=state == 3), now))
        return found

    def written(self) -> None:
        """The taken results are stored: drop them from the inbox."""
        if self._taken:
            self.tables.done_with(self._taken)
            self._taken = 0
