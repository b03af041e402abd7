"""What one Livestatus request reads: the store loaded once into views of hosts, services,
groups, contacts and time periods, with the values Livestatus clients expect computed from
what Watchkeeper tracks.

Where Nagios has an object Watchkeeper models differently, the view says how it maps:
- host groups are the host label `hostgroups` (a comma-separated list; `import nagios` writes it);
- service groups are the `groups` of active and passive services (`import nagios`, `service add --group`);
- contacts are the notification contacts; a contact group is a notification rule, its members the
  rule's contacts; a host's or service's contacts are those of the rules that match it;
- time periods are `24x7` (checks run at all times) and each notification rule's period.
Values that need the state history or the metrics are read only when a query asks for them.
"""

from __future__ import annotations

import os
import shlex
import time
import zlib
from dataclasses import dataclass, field
from functools import cached_property

from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.alerts import Tracked
from watchkeeper.model.calendar import WeeklyWindow
from watchkeeper.model.health import Health
from watchkeeper.model.notifications import Acknowledgement, Contact, Downtime, NotificationRule
from watchkeeper.notify.states import flap_percent
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import HostRow, ServiceRow, Store
from watchkeeper.store.notify_tables import NotifyTables

STARTED = time.time()
ALWAYS = "24x7"
HOST_STATES = {"UP": 0, "DOWN": 1, "PENDING": 0}


@dataclass(frozen=True, slots=True)
class ServerFigures:
    """The Livestatus server's and the daemon's own counters at the time of the request."""

    requests: int = 0
    connections: int = 0
    health: Health | None = None


@dataclass(slots=True, eq=False)
class HostView:
    row: HostRow
    snapshot: Snapshot
    services: list[ServiceView] = field(default_factory=list)
    alert: Tracked | None = None
    ack: Acknowledgement | None = None
    downtimes: list[Downtime] = field(default_factory=list)
    check: ActiveCheck | None = None

    @property
    def name(self) -> str:
        return self.row.config.name

    @property
    def state(self) -> int:
        return HOST_STATES.get(self.row.state, 0)

    @property
    def labels(self) -> dict[str, str]:
        labels = self.row.config.opts.labels
        return dict(labels) if isinstance(labels, dict) else {}

    @property
    def groups(self) -> list[str]:
        return sorted({g.strip() for g in self.labels.get("hostgroups", "").split(",") if g.strip()})

    @property
    def last_check(self) -> float:
        if self.row.last_fetch:
            return self.row.last_fetch
        return self.snapshot.active_last_check(self) if self.check is not None else 0.0

    @property
    def interval_s(self) -> float:
        return self.check.interval_s if self.check else self.row.config.interval_s


@dataclass(slots=True, eq=False)
class ServiceView:
    row: ServiceRow
    host: HostView
    alert: Tracked | None = None
    ack: Acknowledgement | None = None
    downtimes: list[Downtime] = field(default_factory=list)
    check: ActiveCheck | None = None

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def state(self) -> int:
        return max(self.row.state, 0)

    @property
    def checked(self) -> bool:
        return self.row.state >= 0

    @property
    def hard_state(self) -> int:
        return self.alert.alert.hard % 4 if self.alert is not None else self.state

    @property
    def groups(self) -> list[str]:
        return sorted(self.check.groups) if self.check is not None else []

    @property
    def interval_s(self) -> float:
        return self.check.interval_s if self.check else self.host.row.config.interval_s

    @property
    def staleness(self) -> float:
        """How many check intervals ago the last result came (Livestatus: stale from 1.5 on)."""
        if self.row.last_check is None:
            return 0.0
        return max(0.0, self.host.snapshot.now - self.row.last_check) / max(self.interval_s, 1.0)


@dataclass(frozen=True, slots=True)
class HostGroupView:
    name: str
    alias: str
    hosts: tuple[HostView, ...]

    @property
    def services(self) -> list[ServiceView]:
        return [service for host in self.hosts for service in host.services]


@dataclass(frozen=True, slots=True)
class ServiceGroupView:
    name: str
    alias: str
    services: tuple[ServiceView, ...]


@dataclass(frozen=True, slots=True)
class ContactView:
    contact: Contact
    groups: tuple[str, ...]
    periods: tuple[str, ...]
    in_period: bool


@dataclass(frozen=True, slots=True)
class ContactGroupView:
    name: str
    alias: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TimeperiodView:
    name: str
    alias: str
    window: WeeklyWindow | None
    inside: bool
    """Now is inside the period."""


@dataclass(frozen=True, slots=True)
class CommandView:
    name: str
    line: str


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    host: HostView | None
    service: ServiceView | None
    host_name: str
    service_name: str
    author: str
    comment: str
    entry_time: float
    entry_type: int
    """1 user, 2 downtime, 4 acknowledgement."""
    expires: float | None


@dataclass(frozen=True, slots=True)
class DowntimeView:
    downtime: Downtime
    host: HostView | None
    service: ServiceView | None
    active: bool
    """In force now (not only scheduled)."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    time: int
    host: str
    service: str
    state: int
    output: str
    lineno: int


class Snapshot:
    """Everything one request may read, loaded once, and only what the request's table needs:
    `GET contacts` does not read thirty thousand services."""

    def __init__(self, store: Store, now: float | None = None, figures: ServerFigures | None = None) -> None:
        self.store = store
        self.now = time.time() if now is None else now
        self.figures = figures or ServerFigures()
        notify = NotifyTables(store)
        self.acks = notify.acknowledgements()
        self.downtime_list = notify.downtimes()
        self.contacts = notify.contacts()
        self.rules = [rule for rule in notify.rules() if not rule.suppress]
        self._rules_cache: dict[tuple[str, str, str], list[NotificationRule]] = {}
        self.active = ActiveTables(store).checks()

    @property
    def hosts(self) -> list[HostView]:
        return self._objects[0]

    @property
    def host_by_name(self) -> dict[str, HostView]:
        return self._objects[1]

    @property
    def services(self) -> list[ServiceView]:
        return self._objects[2]

    @property
    def service_by_key(self) -> dict[tuple[str, str], ServiceView]:
        return self._objects[3]

    @cached_property
    def _objects(self) -> tuple[list[HostView], dict[str, HostView], list[ServiceView],
                                dict[tuple[str, str], ServiceView]]:
        alerts = NotifyTables(self.store).load_alerts()
        acks = self.acks
        checks = {(c.host, c.name): c for c in self.active}
        host_checks = {c.host: c for c in self.active if c.host_check}
        hosts: list[HostView] = []
        host_by_name: dict[str, HostView] = {}
        for row in self.store.hosts():
            name = row.config.name
            view = HostView(row, self, alert=alerts.get((name, "")), ack=acks.get((name, "")),
                            downtimes=self._covering(name, ""), check=host_checks.get(name))
            hosts.append(view)
            host_by_name[name] = view
        services: list[ServiceView] = []
        service_by_key: dict[tuple[str, str], ServiceView] = {}
        for srow in self.store.services():
            host = host_by_name.get(srow.host)
            if host is None:
                continue
            key = (srow.host, srow.name)
            sview = ServiceView(srow, host, alerts.get(key), acks.get(key), self._covering(srow.host, srow.name),
                                checks.get(key))
            host.services.append(sview)
            services.append(sview)
            service_by_key[key] = sview
        return hosts, host_by_name, services, service_by_key

    def _covering(self, host: str, service: str) -> list[Downtime]:
        return [d for d in self.downtime_list if d.covers(host, service, self.now)]

    def active_last_check(self, host: HostView) -> float:
        for service in host.services:
            if host.check is not None and service.name == host.check.name:
                return service.row.last_check or 0.0
        return 0.0

    # ------------------------------------------------------------------ groups
    @cached_property
    def hostgroups(self) -> list[HostGroupView]:
        members: dict[str, list[HostView]] = {}
        for host in self.hosts:
            for group in host.groups:
                members.setdefault(group, []).append(host)
        return [HostGroupView(name, name, tuple(hosts)) for name, hosts in sorted(members.items())]

    @cached_property
    def servicegroups(self) -> list[ServiceGroupView]:
        members: dict[str, list[ServiceView]] = {}
        for service in self.services:
            for group in service.groups:
                members.setdefault(group, []).append(service)
        return [ServiceGroupView(name, name, tuple(services)) for name, services in sorted(members.items())]

    # ------------------------------------------------------------------ contacts and periods
    @staticmethod
    def rule_group(rule: NotificationRule) -> str:
        return rule.name or f"rule{rule.id}"

    @staticmethod
    def rule_period(rule: NotificationRule) -> str:
        if not rule.period:
            return ALWAYS
        return rule.period if rule.zone == "UTC" else f"{rule.period} {rule.zone}"

    @cached_property
    def contactgroups(self) -> list[ContactGroupView]:
        return [ContactGroupView(self.rule_group(rule), rule.comment or f"notification rule {rule.id}",
                                 tuple(sorted(rule.contacts))) for rule in self.rules]

    @cached_property
    def timeperiods(self) -> list[TimeperiodView]:
        periods = {ALWAYS: TimeperiodView(ALWAYS, "At all times: Watchkeeper checks around the clock", None, True)}
        for rule in self.rules:
            name = self.rule_period(rule)
            if name not in periods:
                window = rule.window()
                periods[name] = TimeperiodView(name, f"notification period of rule {self.rule_group(rule)}",
                                               window, window is None or window.contains(self.now))
        return list(periods.values())

    @cached_property
    def contact_views(self) -> list[ContactView]:
        views = []
        periods = {p.name: p for p in self.timeperiods}
        for name, contact in sorted(self.contacts.items()):
            rules = [rule for rule in self.rules if name in rule.contacts]
            names = tuple(dict.fromkeys(self.rule_period(rule) for rule in rules)) or (ALWAYS,)
            views.append(ContactView(contact, tuple(self.rule_group(rule) for rule in rules), names,
                                     any(periods[p].inside for p in names if p in periods)))
        return views

    def rules_for(self, host: HostView, service: str, summary: str) -> list[NotificationRule]:
        """The rules that notify about this host or service; several columns ask, so it is kept."""
        key = (host.name, service, summary)
        found = self._rules_cache.get(key)
        if found is None:
            labels = host.labels
            found = self._rules_cache[key] = [rule for rule in self.rules
                                              if not rule.mismatch(host.name, service, labels, summary)]
        return found

    def contacts_of(self, host: HostView, service: str = "", summary: str = "") -> tuple[list[str], list[str]]:
        """(contacts, contact groups) of the rules that notify about this host or service."""
        rules = self.rules_for(host, service, summary)
        return sorted({c for rule in rules for c in rule.contacts}), sorted({self.rule_group(r) for r in rules})

    def notification_period(self, host: HostView, service: str = "", summary: str = "") -> tuple[str, bool]:
        rules = self.rules_for(host, service, summary)
        if not rules:
            return ALWAYS, True
        windows = [rule.window() for rule in rules]
        inside = any(window is None or window.contains(self.now) for window in windows)
        return self.rule_period(rules[0]), inside

    @cached_property
    def commands(self) -> list[CommandView]:
        found: dict[str, str] = {}
        for check in self.active:
            if check.argv:
                found.setdefault(os.path.basename(check.argv[0]), check.argv[0])
        return [CommandView(name, line) for name, line in sorted(found.items())]

    # ------------------------------------------------------------------ comments and downtimes
    @cached_property
    def comment_views(self) -> list[CommentView]:
        views = []
        for downtime in self.downtime_list:
            if "*" in downtime.host or "?" in downtime.host:
                continue  # a downtime for a glob has no single object to comment on
            service = downtime.service or ""
            views.append(CommentView(downtime.id, self.host_by_name.get(downtime.host),
                                     self.service_by_key.get((downtime.host, service)), downtime.host, service,
                                     downtime.author, downtime.comment, downtime.start, 2, downtime.end))
        for ack in self.acks.values():
            views.append(CommentView(ack_comment_id(ack), self.host_by_name.get(ack.host),
                                     self.service_by_key.get((ack.host, ack.service)), ack.host, ack.service,
                                     ack.author, ack.comment, ack.created, 4, ack.expires))
        return views

    def comments_of(self, host: str, service: str) -> list[CommentView]:
        return self._comments_by_object.get((host, service), [])

    @cached_property
    def _comments_by_object(self) -> dict[tuple[str, str], list[CommentView]]:
        found: dict[tuple[str, str], list[CommentView]] = {}
        for comment in self.comment_views:
            found.setdefault((comment.host_name, comment.service_name), []).append(comment)
        return found

    @cached_property
    def downtime_views(self) -> list[DowntimeView]:
        return [DowntimeView(d, self.host_by_name.get(d.host), self.service_by_key.get((d.host, d.service or "")),
                             d.covers(d.host, d.service or "", self.now)) for d in self.downtime_list]

    # ------------------------------------------------------------------ history and metrics
    def log(self, since: float = 0.0) -> list[LogEntry]:
        rows = self.store.query("SELECT id, ts, host, service, state, summary FROM state_history WHERE ts >= ? "
                                "ORDER BY ts, id", (since,))
        return [LogEntry(int(ts), host, service, state, summary, row_id)
                for row_id, ts, host, service, state, summary in rows]

    @cached_property
    def history(self) -> dict[tuple[str, str], _Transitions]:
        """Per host and service: the state before the last change, and when each state was last left."""
        found: dict[tuple[str, str], _Transitions] = {}
        for host, service, ts, state in self.store.query(
                "SELECT host, service, ts, state FROM state_history ORDER BY host, service, ts, id"):
            entry = found.setdefault((host, service), _Transitions())
            if entry.current is not None and entry.current != state:
                entry.left[entry.current] = ts
                entry.previous = entry.current
            entry.current = state
        return found

    def last_time_in(self, host: str, service: str, state: int, current: int, last_check: float | None) -> int:
        if current == state:
            return int(last_check or 0)
        transitions = self.history.get((host, service))
        return int(transitions.left.get(state, 0)) if transitions else 0

    def last_state(self, host: str, service: str, current: int) -> int:
        transitions = self.history.get((host, service))
        return transitions.previous if transitions and transitions.previous is not None else current

    @cached_property
    def perf_data(self) -> dict[tuple[str, str], str]:
        """The newest value of each metric as Nagios performance data (`name=value;warn;crit`)."""
        rows = self.store.latest_metrics()
        found: dict[tuple[str, str], list[str]] = {}
        for host, service, metric, value, warn, crit in rows:
            levels = ";".join("" if v is None else f"{v:g}" for v in (warn, crit)).rstrip(";")
            found.setdefault((host, service), []).append(
                f"{_perf_label(metric)}={value:g}" + (f";{levels}" if levels else ""))
        return {key: " ".join(parts) for key, parts in found.items()}


@dataclass(slots=True)
class _Transitions:
    current: int | None = None
    previous: int | None = None
    left: dict[int, float] = field(default_factory=dict)


def _perf_label(name: str) -> str:
    return f"'{name}'" if any(c in name for c in " ='") else name


def ack_comment_id(ack: Acknowledgement) -> int:
    """A stable id for an acknowledgement's comment, apart from downtime ids (which count from 1)."""
    return 1_000_000_000 + (zlib.crc32(f"{ack.host};{ack.service}".encode()) % 1_000_000_000)


def command_line(check: ActiveCheck | None) -> str:
    if check is None:
        return ""
    return "passive" if check.passive else shlex.join(check.argv)


def percent_state_change(alert: Tracked | None) -> float:
    """The weighted share of the last 20 results that changed the state (what flapping is judged on)."""
    return flap_percent(alert.alert.changes) if alert is not None else 0.0


def last_notification(alert: Tracked | None) -> tuple[int, int]:
    """(when the last notification went out, how many went out for this problem)."""
    if alert is None or not alert.notified:
        return 0, 0
    return int(max(when for _, when in alert.notified.values())), len(alert.notified)
