"""Alerting's tables in the store: alert states, downtimes, acknowledgements, channels, contacts,
notification rules, and the delivery spool.

The spool holds every event and message with its status:

    bulk | digest   an event waiting for its bulk window or the daily digest
    merged          an event that went into a message
    dropped         an event that cancelled out (a problem that recovered within the window)
    pending         a message waiting to be sent (or retried, at `due`)
    sending         a message handed to its channel; after a crash it is sent again with the
                    same key (Message-ID, Idempotency-Key), so the receiver can drop a duplicate
    sent | failed   done; `failed` after retries for a day, with the last error
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from watchkeeper.errors import ConfigError, NotFound
from watchkeeper.model.alerts import Tracked
from watchkeeper.model.notifications import Acknowledgement, Channel, Contact, Downtime, Event, NotificationRule
from watchkeeper.model.states import CRIT, OK
from watchkeeper.store.database import Store


@dataclass(frozen=True, slots=True)
class SpoolRow:
    id: int
    key: str
    status: str
    contact: str
    channel: str
    due: float
    created: float
    attempts: int
    last_error: str
    sent: float | None
    body: dict[str, Any]


def _spool_row(r: tuple[Any, ...]) -> SpoolRow:
    return SpoolRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], json.loads(r[10]))


class NotifyTables:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ alert states
    def load_alerts(self) -> dict[tuple[str, str], Tracked]:
        tracked: dict[tuple[str, str], Tracked] = {}
        for host, service, data in self.store.query("SELECT host, service, data FROM alerts"):
            try:
                tracked[(host, service)] = Tracked.from_json(data)
            except (ValueError, KeyError, TypeError, IndexError):
                continue  # a damaged row: that service starts afresh (it is re-evaluated at its next check)
        return tracked

    def save(self, alerts: dict[tuple[str, str], Tracked], events: Iterable[tuple[Event, str, float]],
             gone: Iterable[tuple[str, str]] = ()) -> None:
        """Alert states and new spool events in one transaction, so a crash never tells twice."""
        with self.store.transaction("saving alert states") as db:
            db.executemany("INSERT INTO alerts (host, service, data) VALUES (?, ?, ?) ON CONFLICT (host, service) "
                           "DO UPDATE SET data = excluded.data",
                           [(host, service, t.to_json()) for (host, service), t in alerts.items()])
            db.executemany("DELETE FROM alerts WHERE host = ? AND service = ?", list(gone))
            db.executemany("INSERT OR IGNORE INTO notify_spool (key, status, contact, channel, due, created, body) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(e.key, status, e.contact, e.channel, due, e.ts, json.dumps(e.to_json()))
                            for e, status, due in events])

    # ------------------------------------------------------------------ channels and contacts
    def set_channel(self, channel: Channel) -> None:
        with self.store.transaction(f"saving channel {channel.name}") as db:
            db.execute("INSERT INTO notify_channels (name, kind, config) VALUES (?, ?, ?) ON CONFLICT (name) "
                       "DO UPDATE SET kind = excluded.kind, config = excluded.config",
                       (channel.name, channel.kind, json.dumps(channel.config)))

    def channels(self) -> dict[str, Channel]:
        rows = self.store.query("SELECT name, kind, config FROM notify_channels ORDER BY name")
        return {r[0]: Channel(r[0], r[1], json.loads(r[2])) for r in rows}

    def set_contact(self, contact: Contact) -> None:
        missing = set(contact.channels) - set(self.channels())
        if missing:
            raise ConfigError(f"contact {contact.name}: no channel named {', '.join(sorted(missing))}; "
                              "add it first with `watchkeeper notify channel add`")
        with self.store.transaction(f"saving contact {contact.name}") as db:
            db.execute("INSERT INTO notify_contacts (name, email, channels) VALUES (?, ?, ?) ON CONFLICT (name) "
                       "DO UPDATE SET email = excluded.email, channels = excluded.channels",
                       (contact.name, contact.email, json.dumps(list(contact.channels))))

    def contacts(self) -> dict[str, Contact]:
        rows = self.store.query("SELECT name, email, channels FROM notify_contacts ORDER BY name")
        return {r[0]: Contact(r[0], r[1], tuple(json.loads(r[2]))) for r in rows}

    def remove(self, table: str, name: str) -> None:
        column = {"notify_channels": "name", "notify_contacts": "name"}[table]
        with self.store.transaction(f"removing {name}") as db:
            if db.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,)).rowcount == 0:
                raise NotFound(f"there is no {table.removeprefix('notify_')[:-1]} named {name!r}")

    # ------------------------------------------------------------------ rules
    def add_rule(self, rule: NotificationRule) -> int:
        unknown = set(rule.contacts) - set(self.contacts())
        if unknown:
            raise ConfigError(f"notification rule {rule.name!r}: no contact named {', '.join(sorted(unknown))}; "
                              "add it first with `watchkeeper notify contact add`")
        with self.store.transaction("adding a notification rule") as db:
            cursor = db.execute("INSERT INTO notify_rules (spec, created) VALUES (?, ?)",
                                (json.dumps(rule.to_json()), time.time()))
            return int(cursor.lastrowid or 0)

    def remove_rule(self, rule_id: int) -> None:
        with self.store.transaction("removing a notification rule") as db:
            if db.execute("DELETE FROM notify_rules WHERE id = ?", (rule_id,)).rowcount == 0:
                raise NotFound(f"there is no notification rule {rule_id}; `watchkeeper notify rule list`")

    def rules(self) -> list[NotificationRule]:
        rows = self.store.query("SELECT id, spec FROM notify_rules ORDER BY id")
        return [NotificationRule.from_json(r[0], json.loads(r[1])) for r in rows]

    def seed_defaults(self) -> bool:
        """Once per store: mail to root on this machine, low-priority WARNs (pending updates, a reboot
        or restart still needed, configuration left unmerged) in a daily digest."""
        if self.store.query("SELECT 1 FROM meta WHERE key = 'notify_defaults'"):
            return False
        self.set_channel(Channel("mail", "email", {"host": "localhost", "port": 25, "tls": "none",
                                                   "sender": "watchkeeper@localhost"}))
        self.set_contact(Contact("admin", "root@localhost", ("mail",)))
        self.add_rule(NotificationRule(name="pending updates and housekeeping in the daily digest",
                                       service_regex=r"(?i)updates|^reboot needed$|^unmerged configuration$",
                                       states=("WARN",), contacts=("admin",), digest_at="07:00", stop=True))
        self.add_rule(NotificationRule(name="problems to admin", contacts=("admin",), renotify_s=86400.0))
        with self.store.transaction("marking default notification rules") as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('notify_defaults', '1')")
        return True

    # ------------------------------------------------------------------ downtimes and acknowledgements
    def add_downtime(self, downtime: Downtime) -> int:
        with self.store.transaction("adding a downtime") as db:
            cursor = db.execute("INSERT INTO downtimes (host, service, start, end, recurring, zone, author, comment, "
                                "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                (downtime.host, downtime.service, downtime.start, downtime.end, downtime.recurring,
                                 downtime.zone, downtime.author, downtime.comment, time.time()))
            return int(cursor.lastrowid or 0)

    def remove_downtime(self, downtime_id: int) -> None:
        with self.store.transaction("removing a downtime") as db:
            if db.execute("DELETE FROM downtimes WHERE id = ?", (downtime_id,)).rowcount == 0:
                raise NotFound(f"there is no downtime {downtime_id}; `watchkeeper downtime list` shows them")

    def downtimes(self) -> list[Downtime]:
        rows = self.store.query("SELECT id, host, service, start, end, recurring, zone, author, comment "
                                "FROM downtimes ORDER BY start, id")
        return [Downtime(*r) for r in rows]

    def current_state(self, host: str, service: str) -> tuple[int, str]:
        """The state to acknowledge: the host's (UP/DOWN) for service "", else the service's."""
        if not service:
            row = self.store.host(host)
            return (OK if row.state in ("UP", "PENDING") else CRIT), row.last_error
        svc = self.store.service(host, service)
        return max(svc.state, 0), svc.summary

    def acknowledge(self, ack: Acknowledgement) -> None:
        with self.store.transaction(f"acknowledging {ack.host} {ack.service}") as db:
            db.execute("INSERT INTO acknowledgements (host, service, state, author, comment, sticky, expires, created) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host, service) DO UPDATE SET "
                       "state = excluded.state, author = excluded.author, comment = excluded.comment, "
                       "sticky = excluded.sticky, expires = excluded.expires, created = excluded.created",
                       (ack.host, ack.service, ack.state, ack.author, ack.comment, int(ack.sticky), ack.expires,
                        ack.created))

    def remove_acknowledgement(self, host: str, service: str) -> bool:
        with self.store.transaction(f"removing the acknowledgement of {host} {service}") as db:
            return db.execute("DELETE FROM acknowledgements WHERE host = ? AND service = ?",
                              (host, service)).rowcount > 0

    def acknowledgements(self) -> dict[tuple[str, str], Acknowledgement]:
        rows = self.store.query("SELECT host, service, state, author, comment, sticky, expires, created "
                                "FROM acknowledgements")
        return {(r[0], r[1]): Acknowledgement(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7]) for r in rows}

    # ------------------------------------------------------------------ spool
    def spool(self, statuses: Iterable[str], due_before: float | None = None, limit: int = 1000) -> list[SpoolRow]:
        wanted = list(statuses)
        sql = (f"SELECT id, key, status, contact, channel, due, created, attempts, last_error, sent, body "
               f"FROM notify_spool WHERE status IN ({','.join('?' * len(wanted))})")
        args: list[object] = list(wanted)
        if due_before is not None:
            sql += " AND due <= ?"
            args.append(due_before)
        rows = self.store.query(sql + " ORDER BY due, id LIMIT ?", [*args, limit])
        return [_spool_row(r) for r in rows]

    def open_batch_due(self, status: str, contact: str, channel: str) -> float | None:
        rows = self.store.query("SELECT min(due) FROM notify_spool WHERE status = ? AND contact = ? AND channel = ?",
                                (status, contact, channel))
        return rows[0][0] if rows else None

    def merge(self, message_key: str, contact: str, channel: str, body: dict[str, Any], now: float,
              merged: list[int], dropped: list[int], reason: str) -> None:
        """Events into one pending message (or dropped), in one transaction."""
        with self.store.transaction("composing a message") as db:
            if body["events"]:
                db.execute("INSERT OR IGNORE INTO notify_spool (key, status, contact, channel, due, created, body) "
                           "VALUES (?, 'pending', ?, ?, ?, ?, ?)", (message_key, contact, channel, now, now,
                                                                    json.dumps(body)))
            db.executemany("UPDATE notify_spool SET status = 'merged', sent = ? WHERE id = ?",
                           [(now, i) for i in merged])
            db.executemany("UPDATE notify_spool SET status = 'dropped', last_error = ?, sent = ? WHERE id = ?",
                           [(reason, now, i) for i in dropped])

    def mark(self, row_id: int, status: str, *, due: float | None = None, error: str = "",
             sent: float | None = None, attempt: bool = False) -> None:
        with self.store.transaction("updating the spool") as db:
            db.execute("UPDATE notify_spool SET status = ?, due = coalesce(?, due), last_error = ?, "
                       "sent = coalesce(?, sent), attempts = attempts + ? WHERE id = ?",
                       (status, due, error, sent, int(attempt), row_id))

    def log(self, limit: int = 50) -> list[SpoolRow]:
        rows = self.store.query("SELECT id, key, status, contact, channel, due, created, attempts, last_error, sent, "
                                "body FROM notify_spool WHERE status NOT IN ('merged') ORDER BY id DESC LIMIT ?",
                                (limit,))
        return [_spool_row(r) for r in rows]
