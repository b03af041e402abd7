"""A notifier on a real store with a hand-turned clock: feed check results minute by minute and
read the messages that the spool would deliver."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from watchkeeper.model.alerts import AlertPolicy
from watchkeeper.model.cycles import HostCycle, Outcome
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.notifications import Channel, Contact, NotificationRule
from watchkeeper.notify.notifier import Notifier
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

T0 = 1_790_000_000.0  # 2026-09-21 14:13 UTC; tests that need a time of day set it


class Harness:
    def __init__(self, tmp: Path, rules: list[NotificationRule] | None = None, hosts: int = 1,
                 labels: dict[str, str] | None = None) -> None:
        self.store = Store(tmp / "wk.db")
        self.tables = NotifyTables(self.store)
        for i in range(hosts):
            options: dict[str, Any] = {"labels": labels} if labels else {}
            self.store.add_host(HostConfig(f"h{i}", "local", options=options))
        self.tables.set_channel(Channel("mail", "email", {}))
        self.tables.set_contact(Contact("ops", "ops@example.org", ("mail",)))
        self.tables.set_contact(Contact("boss", "boss@example.org", ("mail",)))
        for rule in rules if rules is not None else [NotificationRule(name="all", contacts=("ops",))]:
            self.tables.add_rule(rule)
        self.now = T0
        counter = itertools.count()
        self.notifier = Notifier(self.tables, clock=lambda: self.now, new_key=lambda: f"k{next(counter):06d}")
        self.policy = AlertPolicy()

    def restart(self) -> None:
        counter = itertools.count(500_000)
        self.notifier = Notifier(self.tables, clock=lambda: self.now, new_key=lambda: f"k{next(counter):06d}")

    def check(self, host: str = "h0", up: bool = True, summary: str = "", **services: int) -> None:
        """One cycle at the current time, then a minute passes (with a tick)."""
        outcomes = [Outcome(name.replace("_", " "), state, summary or f"{name} is {state}", stale=not up)
                    for name, state in services.items()]
        self.notifier.observe(HostCycle(host, self.now, up, "" if up else "no route to host", outcomes),
                              self.policy)
        self.notifier.tick(self.now)

    def minutes(self, n: int, host: str = "h0", up: bool = True, summary: str = "", **services: int) -> None:
        for _ in range(n):
            self.check(host, up, summary, **services)
            self.now += 60.0

    def messages(self) -> list[dict[str, Any]]:
        self.notifier.tick(self.now)
        return [row.body for row in reversed(self.tables.log(10_000)) if row.status == "pending"]

    def lines(self) -> list[str]:
        return [m["subject"] for m in self.messages()]
