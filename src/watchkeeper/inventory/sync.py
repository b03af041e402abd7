"""One sync: each source's hosts as they should be, the plan that makes the store match
(`model/inventory.plan`), and, unless it is a dry run, that plan applied in one transaction
and logged. The daemon syncs every `SYNC_EVERY_S`; `watchkeeper inventory sync` does it now.

A source that cannot be read (its file is missing, half-written, not YAML) changes nothing
this time, and says why: hosts are never retired because a file could not be read.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from watchkeeper.errors import ConfigError
from watchkeeper.inventory.hosts_file import read_hosts_file
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.inventory import SOURCE_LABEL, Change, InventorySource, configured, plan
from watchkeeper.store.database import Store
from watchkeeper.store.inventory_tables import InventoryTables
from watchkeeper.store.periodic import run_periodically

log = logging.getLogger(__name__)

SYNC_EVERY_S = 30.0


@dataclass(slots=True)
class SyncReport:
    source: str
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Rows left out, or why nothing was done for this source."""


def sync(store: Store, now: float, dry_run: bool = False, only: str | None = None) -> list[SyncReport]:
    tables = InventoryTables(store)
    sources = [source for source in tables.sources() if only is None or source.name == only]
    if only is not None and not sources:
        raise ConfigError(f"there is no inventory source {only!r}; `watchkeeper inventory source list` shows them")
    existing = tables.configured_hosts()
    owned = tables.owned()
    targets = tables.piggyback_targets() if any(s.kind == "piggyback" for s in sources) else []
    reports = []
    for source in sources:
        report = SyncReport(source.name)
        reports.append(report)
        try:
            desired = _desired(source, targets, report)
        except ConfigError as exc:
            report.problems.append(str(exc))
            continue
        report.changes = plan(source, desired, owned, existing, now)
        for change in report.changes:  # what a later source sees: this one's hosts as planned
            if change.action == "create" and change.config is not None:
                existing[change.host] = configured(change.config)
    if not dry_run:
        changes = [change for report in reports for change in report.changes]
        tables.apply(changes, now, {source.name: source.grace_s for source in sources})
    return reports


def _desired(source: InventorySource, targets: list[tuple[str, str, dict[str, str]]],
             report: SyncReport) -> dict[str, HostConfig]:
    if source.kind == "file":
        found = read_hosts_file(Path(source.path), {**source.labels, SOURCE_LABEL: source.name})
        report.problems.extend(found.problems)
        return found.hosts
    desired: dict[str, HostConfig] = {}
    for source_host, target, labels in targets:
        if not source.takes_from(source_host):
            continue
        if target in desired:  # a VM that moves is listed by two hypervisors for a moment
            report.problems.append(f"{target} is in the output of {source_host} and of "
                                   f"{desired[target].opts.labels.get('piggyback_source')}; the first is kept")
            continue
        merged = {**source.labels, "hypervisor": source_host, **labels, "piggyback_source": source_host,
                  SOURCE_LABEL: source.name}
        try:
            desired[target] = HostConfig(target, "piggyback", source.interval_s, {"labels": merged})
        except ConfigError as exc:
            report.problems.append(str(exc))
    return desired


async def run_syncs(database: Path, stop: asyncio.Event, every_s: float = SYNC_EVERY_S) -> None:
    """The daemon's part: sync every `every_s`, log each change, and each source's problems
    when they change."""
    said: dict[str, list[str]] = {}

    def logged(reports: list[SyncReport]) -> None:
        for report in reports:
            _log_report(report, said)

    await run_periodically(database, stop, "inventory", every_s, sync, logged)


MAX_LOGGED = 20


def _log_report(report: SyncReport, said: dict[str, list[str]]) -> None:
    for change in report.changes[:MAX_LOGGED]:
        log.info("inventory %s: %s %s (%s)", report.source, change.action, change.host, change.detail)
    if len(report.changes) > MAX_LOGGED:
        log.info("inventory %s: ... and %d more changes (`watchkeeper inventory log`)", report.source,
                 len(report.changes) - MAX_LOGGED)
    if report.problems != said.get(report.source, []):
        for problem in report.problems:
            log.warning("inventory %s: %s", report.source, problem)
        said[report.source] = report.problems
