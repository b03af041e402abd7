"""Active and passive services in the store, and the inbox of submitted passive results.

An active or passive service is a row in `services` (so states, history and metrics work as
for agent services) plus its definition in `active_checks`. Submitted results wait in
`passive_inbox` until the daemon takes them: `watchkeeper submit` works while the daemon is
down or restarting, and nothing is lost in between.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from watchkeeper.errors import ConfigError, NotFound
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.store.database import Store


@dataclass(frozen=True, slots=True)
class Submitted:
    id: int
    host: str
    service: str
    state: int
    output: str
    received: float


class ActiveTables:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, check: ActiveCheck, replace: bool = False) -> None:
        now = time.time()
        with self.store.transaction(f"adding service {check.host}/{check.name}") as db:
            if not db.execute("SELECT 1 FROM hosts WHERE name = ?", (check.host,)).fetchone():
                raise NotFound(f"there is no host {check.host!r}; add it first with `watchkeeper host add`")
            row = db.execute("SELECT plugin FROM services WHERE host = ? AND name = ?",
                             (check.host, check.name)).fetchone()
            if row is not None and not (replace and row[0] in (check.plugin, "active", "passive")):
                raise ConfigError(f"{check.host} has a service {check.name!r} already; pick another name "
                                  "or remove it first")
            db.execute("INSERT INTO services (host, name, plugin, item, accepted) VALUES (?, ?, ?, '', ?) "
                       "ON CONFLICT (host, name) DO UPDATE SET plugin = excluded.plugin",
                       (check.host, check.name, check.plugin, now))
            db.execute("INSERT INTO active_checks (host, name, spec) VALUES (?, ?, ?) ON CONFLICT (host, name) "
                       "DO UPDATE SET spec = excluded.spec", (check.host, check.name, json.dumps(check.to_json())))

    def add_many(self, checks: list[ActiveCheck]) -> None:
        """For imports: one transaction, existing definitions replaced."""
        now = time.time()
        with self.store.transaction(f"adding {len(checks)} services") as db:
            db.executemany("INSERT INTO services (host, name, plugin, item, accepted) VALUES (?, ?, ?, '', ?) "
                           "ON CONFLICT (host, name) DO UPDATE SET plugin = excluded.plugin",
                           [(c.host, c.name, c.plugin, now) for c in checks])
            db.executemany("INSERT INTO active_checks (host, name, spec) VALUES (?, ?, ?) ON CONFLICT (host, name) "
                           "DO UPDATE SET spec = excluded.spec",
                           [(c.host, c.name, json.dumps(c.to_json())) for c in checks])

    def remove(self, host: str, name: str) -> None:
        with self.store.transaction(f"removing service {host}/{name}") as db:
            if db.execute("DELETE FROM active_checks WHERE host = ? AND name = ?", (host, name)).rowcount == 0:
                raise NotFound(f"{host} has no active or passive service {name!r}; `watchkeeper service list "
                                  f"{host}` shows them (discovered services go with `watchkeeper discover`)")
            db.execute("DELETE FROM services WHERE host = ? AND name = ?", (host, name))
            db.execute("DELETE FROM state_history WHERE host = ? AND service = ?", (host, name))

    def check_specs(self) -> list[tuple[str, str, str]]:
        """(host, name, spec JSON) of every active and passive service, unparsed: the daemon
        re-reads them every few seconds and parses only what changed."""
        return [(h, n, spec) for h, n, spec in self.store.query("SELECT host, name, spec FROM active_checks")]

    def checks(self, host: str | None = None) -> list[ActiveCheck]:
        sql = "SELECT host, name, spec FROM active_checks"
        rows = self.store.query(sql + (" WHERE host = ?" if host else "") + " ORDER BY host, name",
                                (host,) if host else ())
        return [ActiveCheck.from_json(h, n, json.loads(spec)) for h, n, spec in rows]

    # ------------------------------------------------------------------ passive results
    def submit(self, host: str, service: str, state: int, output: str, received: float | None = None) -> None:
        check = self.store.query("SELECT spec FROM active_checks WHERE host = ? AND name = ?", (host, service))
        if not check:
            raise NotFound(f"{host} has no service {service!r} that takes results; add it with "
                              f"`watchkeeper service add {host} '{service}' --passive`")
        if state not in (0, 1, 2, 3):
            raise ConfigError("the state must be 0-3 or OK, WARN, CRIT, UNKNOWN")
        with self.store.transaction(f"queueing a result for {host}/{service}") as db:
            db.execute("INSERT INTO passive_inbox (host, service, state, output, received) VALUES (?, ?, ?, ?, ?)",
                       (host, service, state, output, time.time() if received is None else received))

    def take_inbox(self, limit: int = 10_000) -> list[Submitted]:
        rows = self.store.query("SELECT id, host, service, state, output, received FROM passive_inbox "
                                "ORDER BY id LIMIT ?", (limit,))
        return [Submitted(*row) for row in rows]

    def done_with(self, last_id: int) -> None:
        with self.store.transaction("clearing taken passive results") as db:
            db.execute("DELETE FROM passive_inbox WHERE id <= ?", (last_id,))
