"""Inventory sources, the hosts they made, what they did (the log), and which hosts each
host's output speaks of (piggyback targets, written by the daemon when they change)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from watchkeeper.errors import ConfigError, NotFound
from watchkeeper.model.inventory import Change, Configured, InventorySource, Owned
from watchkeeper.store.database import Store

RETIRED_BY = "inventory"
"""The author of the downtime that keeps a retired host quiet until it is removed."""
LOG_KEPT = 100_000
"""Log entries kept; older ones go as new ones come."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    at: float
    source: str
    host: str
    action: str
    detail: str


class InventoryTables:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ sources
    def add_source(self, source: InventorySource) -> None:
        with self.store.transaction(f"adding inventory source {source.name}") as db:
            if db.execute("SELECT 1 FROM inventory_sources WHERE name = ?", (source.name,)).fetchone():
                raise ConfigError(f"inventory source {source.name} exists already; remove it first")
            db.execute("INSERT INTO inventory_sources (name, kind, settings, created) VALUES (?, ?, ?, ?)",
                       (source.name, source.kind, json.dumps(source.settings()), time.time()))

    def remove_source(self, name: str) -> int:
        """Its hosts stay, no longer any source's (they are kept as they are); returns how many."""
        with self.store.transaction(f"removing inventory source {name}") as db:
            if db.execute("DELETE FROM inventory_sources WHERE name = ?", (name,)).rowcount == 0:
                raise NotFound(f"there is no inventory source {name!r}; `watchkeeper inventory source list` "
                               "shows them")
            return int(db.execute("DELETE FROM inventory_hosts WHERE source = ?", (name,)).rowcount)

    def sources(self) -> list[InventorySource]:
        rows = self.store.query("SELECT name, kind, settings FROM inventory_sources ORDER BY name")
        return [InventorySource.from_settings(name, kind, json.loads(settings)) for name, kind, settings in rows]

    def configured_hosts(self) -> dict[str, Configured]:
        """Every host as stored (address, interval, options), for comparing, not checked again."""
        return {name: (uri, interval, json.loads(options)) for name, uri, interval, options in
                self.store.query("SELECT name, uri, interval_s, options FROM hosts")}

    def owned(self) -> dict[str, Owned]:
        return {host: Owned(host, source, retired) for host, source, retired in
                self.store.query("SELECT host, source, retired FROM inventory_hosts")}

    # ------------------------------------------------------------------ piggyback targets
    def set_piggyback_targets(self, source: str, targets: Mapping[str, Mapping[str, str]], at: float) -> None:
        """What `source`'s output speaks of now, with the labels its data gives each host."""
        with self.store.transaction(f"storing the hosts {source}'s output speaks of") as db:
            db.execute("DELETE FROM piggyback_targets WHERE source = ?", (source,))
            db.executemany("INSERT INTO piggyback_targets (source, target, labels, seen) VALUES (?, ?, ?, ?)",
                           [(source, target, json.dumps(dict(labels)), at) for target, labels in targets.items()])

    def piggyback_targets(self) -> list[tuple[str, str, dict[str, str]]]:
        """(source host, target host, labels), by source."""
        return [(source, target, json.loads(labels)) for source, target, labels in self.store.query(
            "SELECT source, target, labels FROM piggyback_targets ORDER BY source, target")]

    # ------------------------------------------------------------------ applying a plan
    def apply(self, changes: Sequence[Change], now: float, grace_s: Mapping[str, float]) -> None:
        """Every change in one transaction, each logged; a retired host gets a downtime (no alerts
        while it waits to be removed), which goes when it returns or is removed."""
        if not changes:
            return
        with self.store.transaction(f"applying {len(changes)} inventory changes") as db:
            for change in changes:
                config = change.config
                if change.action == "create" and config is not None:
                    self.store.insert_host(db, config, now)
                    db.execute("INSERT INTO inventory_hosts (host, source, seen, retired) VALUES (?, ?, ?, NULL) "
                               "ON CONFLICT (host) DO UPDATE SET source = excluded.source, retired = NULL",
                               (change.host, change.source, now))
                elif change.action in ("update", "return") and config is not None:
                    db.execute("UPDATE hosts SET uri = ?, interval_s = ?, options = ? WHERE name = ?",
                               (config.uri, config.interval_s, json.dumps(config.options), change.host))
                    db.execute("UPDATE inventory_hosts SET retired = NULL, seen = ? WHERE host = ?", (now, change.host))
                    if change.action == "return":
                        db.execute("DELETE FROM downtimes WHERE host = ? AND service IS NULL AND author = ?",
                                   (change.host, RETIRED_BY))
                elif change.action == "retire":
                    db.execute("UPDATE inventory_hosts SET retired = ? WHERE host = ?", (now, change.host))
                    db.execute("INSERT INTO downtimes (host, service, start, end, recurring, zone, author, comment, "
                               "created) VALUES (?, NULL, ?, ?, '', '', ?, ?, ?)",
                               (change.host, now, now + grace_s.get(change.source, 0.0) + 3600.0, RETIRED_BY,
                                f"retired: inventory source {change.source} no longer lists it", now))
                elif change.action == "remove":
                    self.store.delete_host(db, change.host, keep_history=True)
                    db.execute("DELETE FROM inventory_hosts WHERE host = ?", (change.host,))
                    db.execute("DELETE FROM downtimes WHERE host = ? AND author = ?", (change.host, RETIRED_BY))
                elif change.action == "forget":
                    db.execute("DELETE FROM inventory_hosts WHERE host = ?", (change.host,))
                if change.action != "conflict":
                    db.execute("INSERT INTO inventory_log (at, source, host, action, detail) VALUES (?, ?, ?, ?, ?)",
                               (now, change.source, change.host, change.action, change.detail))
            db.execute("DELETE FROM inventory_log WHERE id <= (SELECT MAX(id) FROM inventory_log) - ?", (LOG_KEPT,))

    def log(self, limit: int = 100, host: str | None = None) -> list[LogEntry]:
        where, args = ("WHERE host = ?", [host]) if host else ("", [])
        rows = self.store.query(f"SELECT at, source, host, action, detail FROM inventory_log {where} "
                                "ORDER BY id DESC LIMIT ?", (*args, limit))
        return [LogEntry(*row) for row in reversed(rows)]
