"""The Livestatus tables over Watchkeeper's store: hosts, services, status, log, downtimes,
comments (acknowledgements) and columns, with the column names and meanings Nagios clients
expect. Each request reads one snapshot of the store; columns are computed only when a
query asks for them."""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from watchkeeper import __version__
from watchkeeper.active.model import ActiveCheck
from watchkeeper.collect.hosts import host_address
from watchkeeper.notify.model import Acknowledgement
from watchkeeper.notify.states import STALE
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import HostRow, ServiceRow, Store
from watchkeeper.store.notify_tables import NotifyTables, Tracked

HOST_STATES = {"UP": 0, "DOWN": 1, "PENDING": 0}
NAGIOS_SERVICE_STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
STARTED = time.time()


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    """int, float, time, string, list or dict, as the `columns` table reports them."""
    description: str
    get: Callable[[Any], Any]


@dataclass(slots=True)
class HostView:
    row: HostRow
    services: list[ServiceView] = field(default_factory=list)
    alert: Tracked | None = None
    ack: Acknowledgement | None = None
    downtimes: int = 0
    check: ActiveCheck | None = None

    @property
    def state(self) -> int:
        return HOST_STATES.get(self.row.state, 0)


@dataclass(slots=True)
class ServiceView:
    row: ServiceRow
    host: HostView
    alert: Tracked | None = None
    ack: Acknowledgement | None = None
    downtimes: int = 0
    check: ActiveCheck | None = None

    @property
    def state(self) -> int:
        return max(self.row.state, 0)


@dataclass(frozen=True, slots=True)
class LogEntry:
    time: int
    host: str
    service: str
    state: int
    output: str


class Snapshot:
    """Everything one request may read, loaded once."""

    def __init__(self, store: Store, now: float | None = None) -> None:
        self.store = store
        self.now = time.time() if now is None else now
        notify = NotifyTables(store)
        alerts = notify.load_alerts()
        acks = notify.acknowledgements()
        self.downtime_list = notify.downtimes()
        checks = {(c.host, c.name): c for c in ActiveTables(store).checks()}
        self.hosts: list[HostView] = []
        by_name: dict[str, HostView] = {}
        for row in store.hosts():
            name = row.config.name
            view = HostView(row, alert=alerts.get((name, "")), ack=acks.get((name, "")),
                            downtimes=self._depth(name, ""),
                            check=next((c for c in checks.values() if c.host == name and c.host_check), None))
            self.hosts.append(view)
            by_name[name] = view
        self.services: list[ServiceView] = []
        for srow in store.services():
            host = by_name.get(srow.host)
            if host is None:
                continue
            key = (srow.host, srow.name)
            sview = ServiceView(srow, host, alerts.get(key), acks.get(key), self._depth(srow.host, srow.name),
                                checks.get(key))
            host.services.append(sview)
            self.services.append(sview)

    def _depth(self, host: str, service: str) -> int:
        return sum(1 for d in self.downtime_list if d.covers(host, service, self.now))

    def log(self, since: float = 0.0) -> list[LogEntry]:
        rows = self.store.query("SELECT ts, host, service, state, summary FROM state_history WHERE ts >= ? "
                                "ORDER BY ts, id", (since,))
        return [LogEntry(int(ts), host, service, state, summary) for ts, host, service, state, summary in rows]

    def comments(self) -> list[CommentView]:
        hosts = {view.row.config.name: view for view in self.hosts}
        services = {(view.row.host, view.row.name): view for view in self.services}
        return [CommentView(ack, hosts.get(ack.host), services.get((ack.host, ack.service)))
                for ack in NotifyTables(self.store).acknowledgements().values()]


# ---------------------------------------------------------------------- helpers
def _t(value: float | None) -> int:
    return int(value or 0)


def _hard(view: HostView | ServiceView) -> int:
    alert = view.alert
    return 1 if alert is None or not alert.alert.soft_problem else 0


def _attempt(view: HostView | ServiceView) -> int:
    return view.alert.alert.attempt if view.alert is not None else 1


def _flapping(view: HostView | ServiceView) -> int:
    return int(view.alert is not None and view.alert.alert.flapping)


def _command(check: ActiveCheck | None) -> str:
    if check is None:
        return ""
    return "passive" if check.passive else shlex.join(check.argv)


def _count(host: HostView, state: int | None) -> int:
    if state is None:
        return sum(1 for s in host.services if s.row.state < 0)
    return sum(1 for s in host.services if s.row.state == state)


def _worst(host: HostView) -> int:
    states = [s.state for s in host.services]
    return max(states, key=lambda s: (0, 1, 3, 2)[s], default=0)


def _labels(host: HostView) -> dict[str, str]:
    labels = host.row.config.options.get("labels", {})
    return dict(labels) if isinstance(labels, dict) else {}


HOST_COLUMNS = [
    Column("name", "string", "Host name", lambda h: h.row.config.name),
    Column("display_name", "string", "Name shown in user interfaces", lambda h: h.row.config.name),
    Column("alias", "string", "Alias", lambda h: str(h.row.config.options.get("alias") or h.row.config.name)),
    Column("address", "string", "Address plugins use ($HOSTADDRESS$)", lambda h: host_address(h.row.config)),
    Column("state", "int", "0 UP, 1 DOWN", lambda h: h.state),
    Column("hard_state", "int", "The last hard state", lambda h: h.state if _hard(h) else 0),
    Column("state_type", "int", "0 soft, 1 hard", _hard),
    Column("has_been_checked", "int", "1 once checked", lambda h: int(h.row.last_fetch is not None
                                                                        or h.row.state != "PENDING")),
    Column("plugin_output", "string", "Why the host is DOWN, or empty",
           lambda h: h.row.last_error or ("UP" if h.row.state == "UP" else "")),
    Column("long_plugin_output", "string", "Long output", lambda h: ""),
    Column("perf_data", "string", "Performance data", lambda h: ""),
    Column("last_check", "time", "Last fetch", lambda h: _t(h.row.last_fetch)),
    Column("last_state_change", "time", "When the state last changed", lambda h: _t(h.row.state_since)),
    Column("last_time_up", "time", "Last time UP", lambda h: _t(h.row.last_ok)),
    Column("check_interval", "float", "Check interval in minutes", lambda h: h.row.config.interval_s / 60),
    Column("retry_interval", "float", "Retry interval in minutes", lambda h: h.row.config.retry_interval_s / 60),
    Column("max_check_attempts", "int", "Results before a problem is hard",
           lambda h: int(h.row.config.options.get("max_attempts", 3))),
    Column("current_attempt", "int", "Attempt of the current problem", _attempt),
    Column("check_command", "string", "How the host is checked",
           lambda h: _command(h.check) or ("agent " + h.row.config.uri if h.row.config.uri != "none" else "")),
    Column("acknowledged", "int", "1 when the problem is acknowledged", lambda h: int(h.ack is not None)),
    Column("scheduled_downtime_depth", "int", "Downtimes now in force", lambda h: h.downtimes),
    Column("is_flapping", "int", "1 when flapping", _flapping),
    Column("notifications_enabled", "int", "Notifications enabled", lambda h: 1),
    Column("active_checks_enabled", "int", "Active checks enabled", lambda h: int(h.row.config.uri != "none"
                                                                                      or h.check is not None)),
    Column("accept_passive_checks", "int", "Passive results accepted", lambda h: 1),
    Column("custom_variables", "dict", "Labels", _labels),
    Column("custom_variable_names", "list", "Label names", lambda h: sorted(_labels(h))),
    Column("custom_variable_values", "list", "Label values", lambda h: [v for _, v in sorted(_labels(h).items())]),
    Column("groups", "list", "Host groups", lambda h: []),
    Column("services", "list", "Service names", lambda h: [s.row.name for s in h.services]),
    Column("num_services", "int", "Number of services", lambda h: len(h.services)),
    Column("num_services_ok", "int", "Services OK", lambda h: _count(h, 0)),
    Column("num_services_warn", "int", "Services WARNING", lambda h: _count(h, 1)),
    Column("num_services_crit", "int", "Services CRITICAL", lambda h: _count(h, 2)),
    Column("num_services_unknown", "int", "Services UNKNOWN", lambda h: _count(h, 3)),
    Column("num_services_pending", "int", "Services not checked yet", lambda h: _count(h, None)),
    Column("worst_service_state", "int", "Worst service state", _worst),
]

SERVICE_COLUMNS = [
    Column("host_name", "string", "Host name", lambda s: s.row.host),
    Column("description", "string", "Service name", lambda s: s.row.name),
    Column("display_name", "string", "Name shown in user interfaces", lambda s: s.row.name),
    Column("state", "int", "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", lambda s: s.state),
    Column("state_type", "int", "0 soft, 1 hard", _hard),
    Column("last_hard_state", "int", "The last hard state",
           lambda s: s.alert.alert.hard % STALE if s.alert is not None else s.state),
    Column("has_been_checked", "int", "1 once checked", lambda s: int(s.row.state >= 0)),
    Column("plugin_output", "string", "Summary", lambda s: s.row.summary),
    Column("long_plugin_output", "string", "Details", lambda s: s.row.details),
    Column("perf_data", "string", "Performance data (kept as metrics, not as text)", lambda s: ""),
    Column("is_stale", "int", "1 when the result is not fresh", lambda s: int(s.row.stale)),
    Column("last_check", "time", "Last result", lambda s: _t(s.row.last_check)),
    Column("last_state_change", "time", "When the state last changed", lambda s: _t(s.row.last_change)),
    Column("check_command", "string", "The plugin and its arguments, or the agent check plugin",
           lambda s: _command(s.check) or s.row.plugin),
    Column("check_type", "int", "0 active, 1 passive", lambda s: int(s.check is not None and s.check.passive)),
    Column("check_interval", "float", "Check interval in minutes",
           lambda s: (s.check.interval_s if s.check else s.host.row.config.interval_s) / 60),
    Column("retry_interval", "float", "Retry interval in minutes",
           lambda s: (s.check.retry_interval_s if s.check else s.host.row.config.retry_interval_s) / 60),
    Column("max_check_attempts", "int", "Results before a problem is hard",
           lambda s: s.check.max_attempts if s.check else int(s.host.row.config.options.get("max_attempts", 3))),
    Column("current_attempt", "int", "Attempt of the current problem", _attempt),
    Column("acknowledged", "int", "1 when the problem is acknowledged", lambda s: int(s.ack is not None)),
    Column("scheduled_downtime_depth", "int", "Downtimes now in force", lambda s: s.downtimes),
    Column("is_flapping", "int", "1 when flapping", _flapping),
    Column("notifications_enabled", "int", "Notifications enabled", lambda s: 1),
    Column("active_checks_enabled", "int", "Active checks enabled",
           lambda s: int(s.check is None or not s.check.passive)),
    Column("accept_passive_checks", "int", "Passive results accepted",
           lambda s: int(s.check is not None and s.check.passive)),
    Column("groups", "list", "Service groups", lambda s: []),
    Column("custom_variables", "dict", "Custom variables", lambda s: {}),
    Column("host_state", "int", "State of the host", lambda s: s.host.state),
    Column("host_address", "string", "Address of the host", lambda s: host_address(s.host.row.config)),
    Column("host_alias", "string", "Alias of the host",
           lambda s: str(s.host.row.config.options.get("alias") or s.row.host)),
    Column("host_acknowledged", "int", "1 when the host problem is acknowledged",
           lambda s: int(s.host.ack is not None)),
    Column("host_scheduled_downtime_depth", "int", "Host downtimes now in force", lambda s: s.host.downtimes),
    Column("host_custom_variables", "dict", "Labels of the host", lambda s: _labels(s.host)),
]

STATUS_COLUMNS = [
    Column("program_version", "string", "Watchkeeper version", lambda s: f"watchkeeper {__version__}"),
    Column("livestatus_version", "string", "Livestatus version", lambda s: f"watchkeeper {__version__}"),
    Column("program_start", "time", "When this server started", lambda s: int(STARTED)),
    Column("nagios_pid", "int", "Process id", lambda s: os.getpid()),
    Column("num_hosts", "int", "Hosts", lambda s: len(s.hosts)),
    Column("num_services", "int", "Services", lambda s: len(s.services)),
    Column("enable_notifications", "int", "Notifications on", lambda s: 1),
    Column("execute_service_checks", "int", "Active checks on", lambda s: 1),
    Column("accept_passive_service_checks", "int", "Passive results accepted", lambda s: 1),
    Column("execute_host_checks", "int", "Host checks on", lambda s: 1),
    Column("interval_length", "int", "Seconds in an interval unit", lambda s: 60),
]


def _log_type(entry: LogEntry) -> str:
    return "SERVICE ALERT" if entry.service else "HOST ALERT"


def _log_state_name(entry: LogEntry) -> str:
    if not entry.service:
        return "UP" if entry.state == 0 else "DOWN"
    return NAGIOS_SERVICE_STATES[entry.state] if 0 <= entry.state <= 3 else "PENDING"


LOG_COLUMNS = [
    Column("time", "time", "When", lambda e: e.time),
    Column("class", "int", "1 alert", lambda e: 1),
    Column("type", "string", "HOST ALERT or SERVICE ALERT", _log_type),
    Column("state", "int", "The new state", lambda e: (0 if e.state == 0 else 1) if not e.service else max(e.state, 0)),
    Column("state_type", "string", "Not recorded per change", lambda e: ""),
    Column("host_name", "string", "Host", lambda e: e.host),
    Column("service_description", "string", "Service, empty for the host", lambda e: e.service),
    Column("plugin_output", "string", "Summary", lambda e: e.output),
    Column("message", "string", "The whole log line",
           lambda e: f"[{e.time}] {_log_type(e)}: {e.host};" + (f"{e.service};" if e.service else "")
           + f"{_log_state_name(e)};{e.output}"),
]

DOWNTIME_COLUMNS = [
    Column("id", "int", "Downtime id", lambda d: d.id),
    Column("host_name", "string", "Host (or glob)", lambda d: d.host),
    Column("service_description", "string", "Service (or glob), empty for the host", lambda d: d.service or ""),
    Column("is_service", "int", "1 for a service downtime", lambda d: int(d.service is not None)),
    Column("author", "string", "Author", lambda d: d.author),
    Column("comment", "string", "Comment", lambda d: d.comment),
    Column("start_time", "time", "Start", lambda d: _t(d.start if d.start != float("inf") else 0)),
    Column("entry_time", "time", "Its start (the time of entry is not kept)", lambda d: _t(d.start)),
    Column("end_time", "time", "End", lambda d: _t(d.end if d.end != float("inf") else 0)),
    Column("fixed", "int", "Always 1: downtimes here are fixed windows", lambda d: 1),
    Column("duration", "int", "Length in seconds",
           lambda d: _t(d.end - d.start if d.end != float("inf") else 0)),
    Column("triggered_by", "int", "Always 0", lambda d: 0),
    Column("type", "int", "Always 1 (active)", lambda d: 1),
]

COMMENT_COLUMNS = [
    Column("id", "int", "Comment id", lambda a: 0),
    Column("host_name", "string", "Host", lambda a: a.host),
    Column("service_description", "string", "Service, empty for the host", lambda a: a.service),
    Column("is_service", "int", "1 for a service", lambda a: int(bool(a.service))),
    Column("author", "string", "Author", lambda a: a.author),
    Column("comment", "string", "Comment", lambda a: a.comment),
    Column("entry_time", "time", "When", lambda a: _t(a.created)),
    Column("entry_type", "int", "4: acknowledgement", lambda a: 4),
    Column("persistent", "int", "1", lambda a: 1),
    Column("expires", "int", "1 when it expires", lambda a: int(a.expires is not None)),
    Column("expire_time", "time", "When it expires", lambda a: _t(a.expires)),
]

COLUMNS_COLUMNS = [
    Column("table", "string", "Table", lambda c: c[0]),
    Column("name", "string", "Column", lambda c: c[1].name),
    Column("description", "string", "What it means", lambda c: c[1].description),
    Column("type", "string", "int, float, time, string, list or dict", lambda c: c[1].type),
]

@dataclass(frozen=True, slots=True)
class CommentView:
    ack: Acknowledgement
    host: HostView | None
    service: ServiceView | None


COMMENT_COLUMNS = [Column(c.name, c.type, c.description, (lambda get: lambda v: get(v.ack))(c.get))
                   for c in COMMENT_COLUMNS]

# Columns that Nagios clients ask for but Watchkeeper does not track (event handlers, action
# URLs, obsessing, ...): answered with a neutral value and said so in `columns`, so that a
# client asking for all of them works, while a misspelt column still gets error 450.
_LISTS = {"childs", "parents", "comments", "comments_with_info", "comments_with_extra_info", "contacts",
          "contact_groups", "downtimes", "downtimes_with_info", "services_with_state", "services_with_info",
          "services_with_fullstate", "modified_attributes_list", "members", "members_with_state"}
_STRINGS = {"action_url", "action_url_expanded", "check_command_expanded", "check_period", "event_handler",
            "filename", "icon_image", "icon_image_alt", "icon_image_expanded", "notes", "notes_expanded",
            "notes_url", "notes_url_expanded", "notification_period", "service_period", "mk_inventory",
            "mk_inventory_gz"}
HOST_EXTRA = (
    "acknowledgement_type action_url action_url_expanded check_command_expanded check_flapping_recovery_notification "
    "check_freshness check_options check_period check_type checks_enabled childs comments comments_with_extra_info "
    "comments_with_info contact_groups contacts current_notification_number downtimes downtimes_with_info "
    "event_handler event_handler_enabled execution_time filename first_notification_delay flap_detection_enabled "
    "high_flap_threshold icon_image icon_image_alt icon_image_expanded in_check_period in_notification_period "
    "in_service_period initial_state is_executing last_hard_state last_hard_state_change last_notification "
    "last_state last_time_down last_time_unreachable latency low_flap_threshold mk_inventory mk_inventory_gz "
    "mk_inventory_last modified_attributes modified_attributes_list next_check next_notification "
    "no_more_notifications notes notes_expanded notes_url notes_url_expanded notification_interval "
    "notification_period num_services_hard_crit num_services_hard_ok num_services_hard_unknown "
    "num_services_hard_warn obsess_over_host parents pending_flex_downtime percent_state_change pnpgraph_present "
    "process_performance_data service_period services_with_fullstate services_with_info services_with_state "
    "staleness").split()
SERVICE_EXTRA = (
    "acknowledgement_type execution_time check_latency check_options check_period contact_groups contacts "
    "current_event_id current_notification_id current_notification_number current_problem_id current_state "
    "event_handler event_handler_enabled flap_detection_enabled last_event_id last_hard_state_change "
    "last_notification last_problem_id last_time_critical last_time_ok last_time_unknown last_time_warning "
    "last_update modified_attributes next_check next_notification no_more_notifications notification_period "
    "obsess passive_checks_enabled percent_state_change problem_has_been_acknowledged process_performance_data "
    "downtimes downtimes_with_info should_be_scheduled pnpgraph_present custom_variable_names "
    "custom_variable_values latency staleness in_check_period in_notification_period").split()


def _neutral(name: str) -> Column:
    if name in _LISTS:
        return Column(name, "list", "not tracked by Watchkeeper (always empty)", lambda row: [])
    if name in _STRINGS:
        return Column(name, "string", "not tracked by Watchkeeper (always empty)", lambda row: "")
    kind = "float" if name in ("latency", "execution_time", "check_latency", "staleness") else "int"
    return Column(name, kind, "not tracked by Watchkeeper (always 0)", lambda row: 0)


def _with_extras(columns: list[Column], extras: list[str]) -> list[Column]:
    known = {c.name for c in columns}
    return columns + [_neutral(name) for name in extras if name not in known]


def _joined(prefix: str, columns: list[Column], pick: Callable[[Any], Any]) -> list[Column]:
    """Columns of a related row, as Livestatus joins them (`host_state` on services)."""
    def lift(get: Callable[[Any], Any], neutral: Any) -> Callable[[Any], Any]:
        return lambda row: neutral if pick(row) is None else get(pick(row))
    neutral = {"int": 0, "float": 0.0, "time": 0, "string": "", "list": [], "dict": {}}
    return [Column(prefix + c.name, c.type, f"{c.description} (of the {prefix[:-1]})", lift(c.get, neutral[c.type]))
            for c in columns]


HOST_COLUMNS = _with_extras(HOST_COLUMNS, HOST_EXTRA)
SERVICE_COLUMNS = _with_extras(SERVICE_COLUMNS, SERVICE_EXTRA)
_own = {c.name for c in SERVICE_COLUMNS}
SERVICE_COLUMNS += [c for c in _joined("host_", HOST_COLUMNS, lambda s: s.host) if c.name not in _own]
_own = {c.name for c in COMMENT_COLUMNS}
COMMENT_COLUMNS += [c for c in _joined("host_", HOST_COLUMNS, lambda c: c.host)
                    + _joined("service_", [c for c in SERVICE_COLUMNS if not c.name.startswith("host_")],
                              lambda c: c.service) if c.name not in _own]

TABLES: dict[str, list[Column]] = {
    "hosts": HOST_COLUMNS, "services": SERVICE_COLUMNS, "status": STATUS_COLUMNS, "log": LOG_COLUMNS,
    "downtimes": DOWNTIME_COLUMNS, "comments": COMMENT_COLUMNS, "columns": COLUMNS_COLUMNS,
}
COLUMN_INDEX = {table: {column.name: column for column in columns} for table, columns in TABLES.items()}


def rows_of(table: str, snapshot: Snapshot, log_since: float = 0.0) -> list[Any]:
    if table == "hosts":
        return snapshot.hosts
    if table == "services":
        return snapshot.services
    if table == "status":
        return [snapshot]
    if table == "log":
        return snapshot.log(log_since)
    if table == "downtimes":
        return snapshot.downtime_list
    if table == "comments":
        return snapshot.comments()
    return [(name, column) for name, columns in TABLES.items() for column in columns]

