"""The Livestatus tables and their columns, with the names, types and meanings that Nagios
clients (Thruk and its LMD, NagVis, Nagstamon, Checkmk's client) and the Livestatus module for
Nagios 4 define. A column computes its value from a view of `snapshot.py` only when a query
asks for it.

Columns for what Watchkeeper does not have (event handlers, obsessing, per-object flap
thresholds, ...) answer a fixed value and say so in the `columns` table, so a client that asks
for all of them works, while a misspelt column still gets error 450.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from watchkeeper import __version__
from watchkeeper.livestatus.snapshot import (
    ALWAYS,
    STARTED,
    CommentView,
    HostGroupView,
    HostView,
    LogEntry,
    ServiceGroupView,
    ServiceView,
    Snapshot,
    command_line,
    last_notification,
    percent_state_change,
)
from watchkeeper.model.hosts import host_address
from watchkeeper.model.states import STALE

NAGIOS_SERVICE_STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
NEUTRAL = {"int": 0, "float": 0.0, "time": 0, "string": "", "list": [], "dict": {}}
SEVERITY = (0, 1, 3, 2)
"""Worst-state order of Livestatus: OK < WARN < UNKNOWN < CRIT."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    """int, float, time, string, list or dict, as the `columns` table reports them."""
    description: str
    get: Callable[[Any], Any]


def _t(value: float | None) -> int:
    return int(value or 0)


def _fixed(name: str, kind: str, value: Any, why: str) -> Column:
    return Column(name, kind, why, lambda row: value)


def _lifted(prefix: str, columns: Iterable[Column], pick: Callable[[Any], Any], of: str = "") -> list[Column]:
    """Columns of a related row (`host_state` on services), neutral where there is none."""
    def lift(get: Callable[[Any], Any], neutral: Any) -> Callable[[Any], Any]:
        def value(row: Any) -> Any:
            related = pick(row)
            return neutral if related is None else get(related)
        return value
    suffix = f" (of the {of})" if of else ""
    return [Column(prefix + c.name, c.type, c.description + suffix, lift(c.get, NEUTRAL[c.type])) for c in columns]


def _merge(*groups: Iterable[Column]) -> list[Column]:
    seen: dict[str, Column] = {}
    for group in groups:
        for column in group:
            seen.setdefault(column.name, column)
    return list(seen.values())


# ---------------------------------------------------------------------- shared by hosts and services
def _hard(view: HostView | ServiceView) -> int:
    return 1 if view.alert is None or not view.alert.alert.soft_problem else 0


def _attempt(view: HostView | ServiceView) -> int:
    return view.alert.alert.attempt if view.alert is not None else 1


def _flapping(view: HostView | ServiceView) -> int:
    return int(view.alert is not None and view.alert.alert.flapping)


def _ack_type(view: HostView | ServiceView) -> int:
    return 0 if view.ack is None else 2 if view.ack.sticky else 1


def _comments(view: HostView | ServiceView, host: str, service: str, how: str) -> list[Any]:
    found = view_snapshot(view).comments_of(host, service)
    if how == "ids":
        return [c.id for c in found]
    if how == "info":
        return [[c.id, c.author, c.comment] for c in found]
    return [[c.id, c.author, c.comment, c.entry_type, _t(c.entry_time)] for c in found]


def view_snapshot(view: HostView | ServiceView) -> Snapshot:
    return view.snapshot if isinstance(view, HostView) else view.host.snapshot


def _downtimes(view: HostView | ServiceView, info: bool) -> list[Any]:
    if info:
        return [[d.id, d.author, d.comment] for d in view.downtimes]
    return [d.id for d in view.downtimes]


def _matching(view: HostView | ServiceView) -> tuple[HostView, str, str]:
    """(host, service name, summary) as the notification rules see this host or service."""
    if isinstance(view, HostView):
        return view, "", ""
    return view.host, view.name, view.row.summary


def _notify_settings(view: HostView | ServiceView, which: str) -> float:
    host, service, summary = _matching(view)
    rules = host.snapshot.rules_for(host, service, summary)
    if which == "delay":
        return min((rule.after_s for rule in rules), default=0.0) / 60.0
    return min((rule.renotify_s for rule in rules if rule.renotify_s), default=0.0) / 60.0


def _common(kind: str) -> list[Column]:
    """Columns hosts and services share, with the same meaning."""
    what = "host" if kind == "host" else "service"
    return [
        Column("state_type", "int", "0 soft, 1 hard", _hard),
        Column("current_attempt", "int", "Attempt of the current problem", _attempt),
        Column("is_flapping", "int", "1 when flapping", _flapping),
        Column("percent_state_change", "float", "Weighted share of the last 20 results that changed the state",
               lambda v: percent_state_change(v.alert)),
        Column("flap_detection_enabled", "int", "Always 1: flapping is always detected", lambda v: 1),
        _fixed("low_flap_threshold", "float", 15.0, "Flapping ends below this percent state change"),
        _fixed("high_flap_threshold", "float", 30.0, "Flapping starts at this percent state change"),
        Column("acknowledged", "int", f"1 when the {what} problem is acknowledged", lambda v: int(v.ack is not None)),
        Column("problem_has_been_acknowledged", "int", "Same as acknowledged", lambda v: int(v.ack is not None)),
        Column("acknowledgement_type", "int", "0 none, 1 normal, 2 sticky", _ack_type),
        Column("scheduled_downtime_depth", "int", "Downtimes now in force", lambda v: len(v.downtimes)),
        Column("downtimes", "list", "Ids of the downtimes now in force", lambda v: _downtimes(v, False)),
        Column("downtimes_with_info", "list", "Downtimes now in force: id, author, comment",
               lambda v: _downtimes(v, True)),
        Column("last_hard_state_change", "time", "When the hard state last changed",
               lambda v: _t(v.alert.alert.hard_since) if v.alert else _t(v.row.state_since if kind == "host"
                                                                          else v.row.last_change)),
        Column("last_notification", "time", "When the last notification went out",
               lambda v: last_notification(v.alert)[0]),
        Column("current_notification_number", "int", "Notifications sent for the current problem",
               lambda v: last_notification(v.alert)[1]),
        _fixed("next_notification", "time", 0, "Notification rules decide repeats; not scheduled ahead"),
        _fixed("no_more_notifications", "int", 0, "Always 0"),
        Column("first_notification_delay", "float", "Minutes a problem must be hard before the first "
               "notification (the smallest escalation delay of the matching rules)",
               lambda v: _notify_settings(v, "delay")),
        Column("notification_interval", "float", "Minutes between repeated notifications (the matching rules' "
               "smallest repeat), 0 when told once", lambda v: _notify_settings(v, "repeat")),
        Column("notifications_enabled", "int", "Notifications enabled", lambda v: 1),
        _fixed("check_period", "string", ALWAYS, "Checks run at all times"),
        _fixed("in_check_period", "int", 1, "Checks run at all times"),
        _fixed("service_period", "string", "", "No service periods"),
        _fixed("in_service_period", "int", 1, "No service periods"),
        _fixed("event_handler", "string", "", "Watchkeeper runs no event handlers"),
        _fixed("event_handler_enabled", "int", 0, "Watchkeeper runs no event handlers"),
        _fixed("process_performance_data", "int", 1, "Performance data always becomes metrics"),
        _fixed("check_options", "int", 0, "No pending check options"),
        _fixed("initial_state", "int", 0, "Not configurable"),
        _fixed("is_executing", "int", 0, "Not tracked while a check runs"),
        _fixed("execution_time", "float", 0.0, "Not recorded per object"),
        _fixed("latency", "float", 0.0, "Not recorded per object (see status and /metrics)"),
        _fixed("modified_attributes", "int", 0, "No runtime overrides of the configuration"),
        _fixed("modified_attributes_list", "list", [], "No runtime overrides of the configuration"),
        _fixed("pnpgraph_present", "int", 0, "Graphs are in Watchkeeper's web UI"),
        _fixed("should_be_scheduled", "int", 1, "Every configured check is scheduled"),
        _fixed("hourly_value", "int", 0, "Not used"),
        _fixed("obsess", "int", 0, "Watchkeeper does not obsess; results go to the store and Livestatus"),
        _fixed("check_source", "string", "", "Not used"),
        _fixed("icon_image_alt", "string", "", "No icons"),
        _fixed("cached_at", "time", 0, "Not used"),
        _fixed("cache_interval", "int", 0, "Not used"),
        _fixed("depends_exec", "list", [], "No dependencies"),
        _fixed("depends_notify", "list", [], "No dependencies"),
        _fixed("last_update", "time", 0, "Not tracked"),
    ]


def _contacts(view: HostView | ServiceView, groups: bool) -> list[str]:
    host, service, summary = _matching(view)
    found = host.snapshot.contacts_of(host, service, summary)
    return found[1] if groups else found[0]


def _period(view: HostView | ServiceView, inside: bool) -> Any:
    host, service, summary = _matching(view)
    name, now_inside = host.snapshot.notification_period(host, service, summary)
    return int(now_inside) if inside else name


def _with_contacts() -> list[Column]:
    return [
        Column("contacts", "list", "Contacts of the notification rules that match", lambda v: _contacts(v, False)),
        Column("contact_groups", "list", "Notification rules that match (as contact groups)",
               lambda v: _contacts(v, True)),
        Column("notification_period", "string", "Period of the first matching notification rule",
               lambda v: _period(v, False)),
        Column("in_notification_period", "int", "1 when a matching rule may notify now", lambda v: _period(v, True)),
    ]


# ---------------------------------------------------------------------- hosts
def _count(host: HostView, state: int | None, hard: bool = False) -> int:
    if state is None:
        return sum(1 for s in host.services if not s.checked)
    return sum(1 for s in host.services if s.checked and (s.hard_state if hard else s.state) == state)


def _worst(states: Iterable[int]) -> int:
    return max(states, key=lambda s: SEVERITY[s], default=0)


def _labels(host: HostView) -> dict[str, str]:
    return host.labels


def _option(host: HostView, key: str) -> str:
    return str(getattr(host.row.config.opts, key, ""))


def _host_last_state(host: HostView) -> int:
    previous = host.snapshot.last_state(host.name, "", 2 if host.state else 0)
    return 1 if previous else 0


def _services_with(host: HostView, how: str) -> list[Any]:
    if how == "state":
        return [[s.name, s.state, int(s.checked)] for s in host.services]
    if how == "info":
        return [[s.name, s.state, int(s.checked), s.row.summary] for s in host.services]
    return [[s.name, s.state, int(s.checked), s.row.summary, s.hard_state, _attempt(s),
             s.check.max_attempts if s.check else _max_attempts(host), len(s.downtimes), int(s.ack is not None)]
            for s in host.services]


def _max_attempts(host: HostView) -> int:
    return host.check.max_attempts if host.check else host.row.config.opts.max_attempts


def _host_hard_state(host: HostView) -> int:
    if host.alert is None:
        return host.state
    return 1 if host.alert.alert.hard % STALE else 0


HOST_COLUMNS = [
    Column("name", "string", "Host name", lambda h: h.name),
    Column("display_name", "string", "Name shown in user interfaces", lambda h: h.name),
    Column("alias", "string", "Alias", lambda h: _option(h, "alias") or h.name),
    Column("address", "string", "Address plugins use ($HOSTADDRESS$)", lambda h: host_address(h.row.config)),
    Column("state", "int", "0 UP, 1 DOWN", lambda h: h.state),
    Column("hard_state", "int", "The current hard state", _host_hard_state),
    Column("last_hard_state", "int", "The last hard state", _host_hard_state),
    Column("last_state", "int", "The state before the last change", _host_last_state),
    Column("has_been_checked", "int", "1 once checked", lambda h: int(h.row.last_fetch is not None
                                                                        or h.row.state != "PENDING")),
    Column("plugin_output", "string", "Why the host is DOWN, or UP",
           lambda h: h.row.last_error or ("UP" if h.row.state == "UP" else "")),
    Column("long_plugin_output", "string", "Long output", lambda h: ""),
    Column("perf_data", "string", "Performance data of the host check",
           lambda h: h.snapshot.perf_data.get((h.name, h.check.name), "") if h.check else ""),
    Column("last_check", "time", "Last fetch or host check", lambda h: _t(h.last_check)),
    Column("next_check", "time", "When the next check is due", lambda h: _t(h.last_check + h.interval_s)
           if h.last_check else 0),
    Column("last_state_change", "time", "When the state last changed", lambda h: _t(h.row.state_since)),
    Column("last_time_up", "time", "Last time UP", lambda h: _t(h.row.last_ok)),
    Column("last_time_down", "time", "Last time DOWN", lambda h: h.snapshot.last_time_in(
        h.name, "", 2, 2 if h.state else 0, h.last_check)),
    _fixed("last_time_unreachable", "time", 0, "Hosts are UP or DOWN"),
    Column("check_interval", "float", "Check interval in minutes", lambda h: h.interval_s / 60),
    Column("retry_interval", "float", "Retry interval in minutes",
           lambda h: (h.check.retry_interval_s if h.check else h.row.config.retry_interval_s) / 60),
    Column("max_check_attempts", "int", "Results before a problem is hard", _max_attempts),
    Column("check_command", "string", "How the host is checked",
           lambda h: command_line(h.check) or ("agent " + h.row.config.uri if h.row.config.uri != "none" else "")),
    Column("check_command_expanded", "string", "Same as check_command",
           lambda h: command_line(h.check) or ("agent " + h.row.config.uri if h.row.config.uri != "none" else "")),
    Column("check_type", "int", "0 active, 1 passive", lambda h: int(h.check is not None and h.check.passive)),
    Column("check_freshness", "int", "1 when a passive host check must be fresh",
           lambda h: int(h.check is not None and h.check.passive and h.check.freshness_s > 0)),
    Column("active_checks_enabled", "int", "Active checks enabled",
           lambda h: int(h.row.config.uri != "none" or (h.check is not None and not h.check.passive))),
    Column("checks_enabled", "int", "Same as active_checks_enabled",
           lambda h: int(h.row.config.uri != "none" or (h.check is not None and not h.check.passive))),
    Column("accept_passive_checks", "int", "Passive results accepted", lambda h: 1),
    Column("staleness", "float", "Check intervals since the last check",
           lambda h: max(0.0, h.snapshot.now - h.last_check) / max(h.interval_s, 1.0) if h.last_check else 0.0),
    Column("custom_variables", "dict", "Labels", _labels),
    Column("custom_variable_names", "list", "Label names", lambda h: sorted(_labels(h))),
    Column("custom_variable_values", "list", "Label values", lambda h: [v for _, v in sorted(_labels(h).items())]),
    Column("groups", "list", "Host groups (the label hostgroups)", lambda h: h.groups),
    Column("services", "list", "Service names", lambda h: [s.name for s in h.services]),
    Column("services_with_state", "list", "Services: name, state, has_been_checked",
           lambda h: _services_with(h, "state")),
    Column("services_with_info", "list", "Services: name, state, has_been_checked, output",
           lambda h: _services_with(h, "info")),
    Column("services_with_fullstate", "list", "Services: name, state, has_been_checked, output, hard state, "
           "attempt, max attempts, downtime depth, acknowledged", lambda h: _services_with(h, "full")),
    Column("num_services", "int", "Number of services", lambda h: len(h.services)),
    Column("total_services", "int", "Number of services", lambda h: len(h.services)),
    Column("num_services_ok", "int", "Services OK", lambda h: _count(h, 0)),
    Column("num_services_warn", "int", "Services WARNING", lambda h: _count(h, 1)),
    Column("num_services_crit", "int", "Services CRITICAL", lambda h: _count(h, 2)),
    Column("num_services_unknown", "int", "Services UNKNOWN", lambda h: _count(h, 3)),
    Column("num_services_pending", "int", "Services not checked yet", lambda h: _count(h, None)),
    Column("num_services_hard_ok", "int", "Services hard OK", lambda h: _count(h, 0, hard=True)),
    Column("num_services_hard_warn", "int", "Services hard WARNING", lambda h: _count(h, 1, hard=True)),
    Column("num_services_hard_crit", "int", "Services hard CRITICAL", lambda h: _count(h, 2, hard=True)),
    Column("num_services_hard_unknown", "int", "Services hard UNKNOWN", lambda h: _count(h, 3, hard=True)),
    Column("worst_service_state", "int", "Worst service state", lambda h: _worst(s.state for s in h.services)),
    Column("worst_service_hard_state", "int", "Worst hard service state",
           lambda h: _worst(s.hard_state for s in h.services)),
    Column("comments", "list", "Ids of the comments (acknowledgements, downtimes)",
           lambda h: _comments(h, h.name, "", "ids")),
    Column("comments_with_info", "list", "Comments: id, author, comment",
           lambda h: _comments(h, h.name, "", "info")),
    Column("comments_with_extra_info", "list", "Comments: id, author, comment, entry type, entry time",
           lambda h: _comments(h, h.name, "", "extra")),
    Column("notes", "string", "Notes (host option notes)", lambda h: _option(h, "notes")),
    Column("notes_expanded", "string", "Notes", lambda h: _option(h, "notes")),
    Column("notes_url", "string", "URL with more about the host (host option notes_url)",
           lambda h: _option(h, "notes_url")),
    Column("notes_url_expanded", "string", "Same as notes_url", lambda h: _option(h, "notes_url")),
    Column("action_url", "string", "URL for actions on the host (host option action_url)",
           lambda h: _option(h, "action_url")),
    Column("action_url_expanded", "string", "Same as action_url", lambda h: _option(h, "action_url")),
    Column("icon_image", "string", "Icon (host option icon_image)", lambda h: _option(h, "icon_image")),
    Column("icon_image_expanded", "string", "Same as icon_image", lambda h: _option(h, "icon_image")),
    _fixed("statusmap_image", "string", "", "No status map"),
    _fixed("parents", "list", [], "No parent hosts"),
    _fixed("childs", "list", [], "No child hosts"),
    _fixed("obsess_over_host", "int", 0, "Watchkeeper does not obsess"),
    _fixed("pending_flex_downtime", "int", 0, "Downtimes are fixed windows"),
    _fixed("filename", "string", "", "Hosts are in the store, not in files"),
    _fixed("address6", "string", "", "One address per host"),
    _fixed("mk_inventory", "string", "", "No inventory"),
    _fixed("mk_inventory_gz", "string", "", "No inventory"),
    _fixed("mk_inventory_last", "time", 0, "No inventory"),
    _fixed("check_flapping_recovery_notification", "int", 0, "Flapping is told by notification rules"),
    *_with_contacts(),
    *_common("host"),
]


# ---------------------------------------------------------------------- services
def _service_last_time(s: ServiceView, state: int) -> int:
    return s.host.snapshot.last_time_in(s.row.host, s.name, state, s.state if s.checked else -1, s.row.last_check)


SERVICE_COLUMNS = [
    Column("host_name", "string", "Host name", lambda s: s.row.host),
    Column("description", "string", "Service name", lambda s: s.name),
    Column("display_name", "string", "Name shown in user interfaces", lambda s: s.name),
    Column("state", "int", "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", lambda s: s.state),
    Column("last_hard_state", "int", "The last hard state", lambda s: s.hard_state),
    Column("hard_state", "int", "The current hard state", lambda s: s.hard_state),
    Column("last_state", "int", "The state before the last change",
           lambda s: max(0, s.host.snapshot.last_state(s.row.host, s.name, s.state))),
    Column("has_been_checked", "int", "1 once checked", lambda s: int(s.checked)),
    Column("plugin_output", "string", "Summary", lambda s: s.row.summary),
    Column("long_plugin_output", "string", "Details", lambda s: s.row.details),
    Column("perf_data", "string", "The newest value of each metric, as performance data",
           lambda s: s.host.snapshot.perf_data.get((s.row.host, s.name), "")),
    Column("is_stale", "int", "1 when the result is not fresh", lambda s: int(s.row.stale)),
    Column("staleness", "float", "Check intervals since the last result", lambda s: s.staleness),
    Column("last_check", "time", "Last result", lambda s: _t(s.row.last_check)),
    Column("next_check", "time", "When the next result is due",
           lambda s: _t(s.row.last_check + s.interval_s) if s.row.last_check else 0),
    Column("last_state_change", "time", "When the state last changed", lambda s: _t(s.row.last_change)),
    Column("last_time_ok", "time", "Last time OK", lambda s: _service_last_time(s, 0)),
    Column("last_time_warning", "time", "Last time WARNING", lambda s: _service_last_time(s, 1)),
    Column("last_time_critical", "time", "Last time CRITICAL", lambda s: _service_last_time(s, 2)),
    Column("last_time_unknown", "time", "Last time UNKNOWN", lambda s: _service_last_time(s, 3)),
    Column("check_command", "string", "The plugin and its arguments, or the agent check plugin",
           lambda s: command_line(s.check) or s.row.plugin),
    Column("check_command_expanded", "string", "Same as check_command",
           lambda s: command_line(s.check) or s.row.plugin),
    Column("check_type", "int", "0 active, 1 passive", lambda s: int(s.check is not None and s.check.passive)),
    Column("check_interval", "float", "Check interval in minutes", lambda s: s.interval_s / 60),
    Column("retry_interval", "float", "Retry interval in minutes",
           lambda s: (s.check.retry_interval_s if s.check else s.host.row.config.retry_interval_s) / 60),
    Column("max_check_attempts", "int", "Results before a problem is hard",
           lambda s: s.check.max_attempts if s.check else _max_attempts(s.host)),
    Column("active_checks_enabled", "int", "Active checks enabled",
           lambda s: int(s.check is None or not s.check.passive)),
    Column("checks_enabled", "int", "Same as active_checks_enabled",
           lambda s: int(s.check is None or not s.check.passive)),
    Column("accept_passive_checks", "int", "Passive results accepted",
           lambda s: int(s.check is not None and s.check.passive)),
    Column("check_freshness", "int", "1 when a passive result must be fresh",
           lambda s: int(s.check is not None and s.check.passive and s.check.freshness_s > 0)),
    Column("groups", "list", "Service groups", lambda s: s.groups),
    _fixed("custom_variables", "dict", {}, "Services have no custom variables"),
    _fixed("custom_variable_names", "list", [], "Services have no custom variables"),
    _fixed("custom_variable_values", "list", [], "Services have no custom variables"),
    Column("comments", "list", "Ids of the comments (acknowledgements, downtimes)",
           lambda s: _comments(s, s.row.host, s.name, "ids")),
    Column("comments_with_info", "list", "Comments: id, author, comment",
           lambda s: _comments(s, s.row.host, s.name, "info")),
    Column("comments_with_extra_info", "list", "Comments: id, author, comment, entry type, entry time",
           lambda s: _comments(s, s.row.host, s.name, "extra")),
    _fixed("notes", "string", "", "No notes on services"),
    _fixed("notes_expanded", "string", "", "No notes on services"),
    _fixed("notes_url", "string", "", "No notes on services"),
    _fixed("notes_url_expanded", "string", "", "No notes on services"),
    _fixed("action_url", "string", "", "No action URLs on services"),
    _fixed("action_url_expanded", "string", "", "No action URLs on services"),
    _fixed("icon_image", "string", "", "No icons"),
    _fixed("icon_image_expanded", "string", "", "No icons"),
    _fixed("obsess_over_service", "int", 0, "Watchkeeper does not obsess"),
    _fixed("is_volatile", "int", 0, "No volatile services"),
    _fixed("parents", "list", [], "No service dependencies"),
    _fixed("passive_checks_enabled", "int", 1, "Passive results are accepted"),
    _fixed("current_event_id", "int", 0, "Not used"),
    _fixed("last_event_id", "int", 0, "Not used"),
    _fixed("current_problem_id", "int", 0, "Not used"),
    _fixed("last_problem_id", "int", 0, "Not used"),
    _fixed("current_notification_id", "int", 0, "Not used"),
    _fixed("check_latency", "float", 0.0, "Not recorded per object"),
    Column("current_state", "int", "Same as state", lambda s: s.state),
    *_with_contacts(),
    *_common("service"),
]


# ---------------------------------------------------------------------- groups
def _member_states(services: Iterable[ServiceView]) -> list[Any]:
    return [[s.row.host, s.name, s.state, int(s.checked)] for s in services]


def _service_counts(get: Callable[[Any], list[ServiceView]]) -> list[Column]:
    def count(state: int | None, hard: bool = False) -> Callable[[Any], int]:
        def value(group: Any) -> int:
            services = get(group)
            if state is None:
                return sum(1 for s in services if not s.checked)
            return sum(1 for s in services if s.checked and (s.hard_state if hard else s.state) == state)
        return value
    return [
        Column("num_services", "int", "Services", lambda g: len(get(g))),
        Column("num_services_ok", "int", "Services OK", count(0)),
        Column("num_services_warn", "int", "Services WARNING", count(1)),
        Column("num_services_crit", "int", "Services CRITICAL", count(2)),
        Column("num_services_unknown", "int", "Services UNKNOWN", count(3)),
        Column("num_services_pending", "int", "Services not checked yet", count(None)),
        Column("num_services_hard_ok", "int", "Services hard OK", count(0, True)),
        Column("num_services_hard_warn", "int", "Services hard WARNING", count(1, True)),
        Column("num_services_hard_crit", "int", "Services hard CRITICAL", count(2, True)),
        Column("num_services_hard_unknown", "int", "Services hard UNKNOWN", count(3, True)),
        Column("worst_service_state", "int", "Worst service state", lambda g: _worst(s.state for s in get(g))),
        Column("worst_service_hard_state", "int", "Worst hard service state",
               lambda g: _worst(s.hard_state for s in get(g))),
    ]


def _group_texts() -> list[Column]:
    return [_fixed(name, "string", "", "Groups carry no notes or URLs")
            for name in ("action_url", "notes", "notes_url")]


HOSTGROUP_COLUMNS = [
    Column("name", "string", "Host group (a value of the host label hostgroups)", lambda g: g.name),
    Column("alias", "string", "Same as name", lambda g: g.alias),
    Column("members", "list", "Host names", lambda g: [h.name for h in g.hosts]),
    Column("members_with_state", "list", "Hosts: name, state, has_been_checked",
           lambda g: [[h.name, h.state, int(h.row.last_fetch is not None or h.row.state != "PENDING")]
                      for h in g.hosts]),
    Column("num_hosts", "int", "Hosts", lambda g: len(g.hosts)),
    Column("num_hosts_up", "int", "Hosts UP", lambda g: sum(1 for h in g.hosts if h.row.state == "UP")),
    Column("num_hosts_down", "int", "Hosts DOWN", lambda g: sum(1 for h in g.hosts if h.row.state == "DOWN")),
    _fixed("num_hosts_unreach", "int", 0, "Hosts are UP or DOWN"),
    Column("num_hosts_pending", "int", "Hosts not checked yet",
           lambda g: sum(1 for h in g.hosts if h.row.state == "PENDING")),
    Column("worst_host_state", "int", "Worst host state", lambda g: max((h.state for h in g.hosts), default=0)),
    *_service_counts(lambda g: g.services),
    *_group_texts(),
]

SERVICEGROUP_COLUMNS = [
    Column("name", "string", "Service group", lambda g: g.name),
    Column("alias", "string", "Same as name", lambda g: g.alias),
    Column("members", "list", "Services as host and service name", lambda g: [[s.row.host, s.name]
                                                                               for s in g.services]),
    Column("members_with_state", "list", "Services: host, service, state, has_been_checked",
           lambda g: _member_states(g.services)),
    *_service_counts(lambda g: list(g.services)),
    *_group_texts(),
]

CONTACT_COLUMNS = [
    Column("name", "string", "Notification contact", lambda c: c.contact.name),
    Column("alias", "string", "Same as name", lambda c: c.contact.name),
    Column("email", "string", "Email address", lambda c: c.contact.email),
    _fixed("pager", "string", "", "Channels other than mail are in channels"),
    Column("groups", "list", "Notification rules naming the contact", lambda c: list(c.groups)),
    Column("host_notification_period", "string", "Period of the first rule naming the contact",
           lambda c: c.periods[0]),
    Column("service_notification_period", "string", "Period of the first rule naming the contact",
           lambda c: c.periods[0]),
    Column("in_host_notification_period", "int", "1 when a rule naming the contact may notify now",
           lambda c: int(c.in_period)),
    Column("in_service_notification_period", "int", "1 when a rule naming the contact may notify now",
           lambda c: int(c.in_period)),
    Column("host_notifications_enabled", "int", "1 when a rule names the contact", lambda c: int(bool(c.groups))),
    Column("service_notifications_enabled", "int", "1 when a rule names the contact",
           lambda c: int(bool(c.groups))),
    Column("host_notification_commands", "list", "Channels", lambda c: list(c.contact.channels)),
    Column("service_notification_commands", "list", "Channels", lambda c: list(c.contact.channels)),
    _fixed("can_submit_commands", "int", 1, "Access is by API token and web user, not by contact"),
    Column("id", "string", "Same as name", lambda c: c.contact.name),
    *[_fixed(f"address{n}", "string", "", "No extra addresses") for n in range(1, 7)],
    _fixed("custom_variables", "dict", {}, "No custom variables"),
    _fixed("custom_variable_names", "list", [], "No custom variables"),
    _fixed("custom_variable_values", "list", [], "No custom variables"),
    _fixed("modified_attributes", "int", 0, "No runtime overrides"),
    _fixed("modified_attributes_list", "list", [], "No runtime overrides"),
]

CONTACTGROUP_COLUMNS = [
    Column("name", "string", "A notification rule (its name, or ruleN)", lambda g: g.name),
    Column("alias", "string", "The rule's comment", lambda g: g.alias),
    Column("members", "list", "The rule's contacts", lambda g: list(g.members)),
]

TIMEPERIOD_COLUMNS = [
    Column("name", "string", "24x7, or a notification rule's weekly window", lambda p: p.name),
    Column("alias", "string", "What uses it", lambda p: p.alias),
    Column("in", "int", "1 when now is inside", lambda p: int(p.inside)),
    _fixed("days", "list", [], "Windows are written as text in name"),
    *[_fixed(f"exceptions_{kind}", "list", [], "No exceptions")
      for kind in ("calendar_dates", "month_date", "month_day", "month_week_day", "week_day")],
    _fixed("exclusions", "list", [], "No exclusions"),
    _fixed("id", "int", 0, "Not numbered"),
    _fixed("num_transitions", "int", 0, "Not computed"),
    _fixed("transitions", "list", [], "Not computed"),
    _fixed("next_transition", "time", 0, "Not computed"),
]

COMMAND_COLUMNS = [
    Column("name", "string", "A plugin that active services run", lambda c: c.name),
    Column("line", "string", "Its path; each service's arguments are in its check_command", lambda c: c.line),
    _fixed("id", "int", 0, "Not numbered"),
]


# ---------------------------------------------------------------------- status
def _health(s: Snapshot, name: str) -> int:
    health = s.figures.health
    return int(getattr(health, name)) if health is not None else 0


def _avg_delay(s: Snapshot) -> float:
    health = s.figures.health
    delays = health.start_delays if health is not None else ()
    return sum(delays) / len(delays) if delays else 0.0


STATUS_COLUMNS = [
    Column("program_version", "string", "Watchkeeper version", lambda s: f"watchkeeper {__version__}"),
    Column("livestatus_version", "string", "Livestatus version", lambda s: f"watchkeeper {__version__}"),
    Column("program_start", "time", "When this server started", lambda s: int(STARTED)),
    Column("nagios_pid", "int", "Process id", lambda s: os.getpid()),
    Column("core_pid", "int", "Process id", lambda s: os.getpid()),
    Column("num_hosts", "int", "Hosts", lambda s: s.store.query("SELECT count(*) FROM hosts")[0][0]),
    Column("num_services", "int", "Services", lambda s: s.store.query("SELECT count(*) FROM services")[0][0]),
    _fixed("enable_notifications", "int", 1, "Notification rules decide"),
    _fixed("execute_service_checks", "int", 1, "Checks always run"),
    _fixed("execute_host_checks", "int", 1, "Checks always run"),
    _fixed("accept_passive_service_checks", "int", 1, "Passive results are accepted"),
    _fixed("accept_passive_host_checks", "int", 1, "Passive results are accepted"),
    _fixed("check_external_commands", "int", 1, "Livestatus and API commands are carried out"),
    _fixed("check_service_freshness", "int", 1, "Passive services with a freshness are checked"),
    _fixed("check_host_freshness", "int", 1, "Passive host checks with a freshness are checked"),
    _fixed("enable_flap_detection", "int", 1, "Flapping is always detected"),
    _fixed("enable_event_handlers", "int", 0, "No event handlers"),
    _fixed("obsess_over_services", "int", 0, "Watchkeeper does not obsess"),
    _fixed("obsess_over_hosts", "int", 0, "Watchkeeper does not obsess"),
    _fixed("process_performance_data", "int", 1, "Performance data always becomes metrics"),
    _fixed("interval_length", "int", 60, "Intervals are given in minutes"),
    Column("last_command_check", "time", "Commands are carried out as they arrive: now", lambda s: int(s.now)),
    _fixed("last_log_rotation", "time", 0, "The log is the store's state history"),
    Column("requests", "int", "Livestatus requests since start", lambda s: s.figures.requests),
    Column("requests_rate", "float", "Livestatus requests per second since start",
           lambda s: s.figures.requests / max(1.0, s.now - STARTED)),
    Column("connections", "int", "Livestatus connections since start", lambda s: s.figures.connections),
    Column("connections_rate", "float", "Livestatus connections per second since start",
           lambda s: s.figures.connections / max(1.0, s.now - STARTED)),
    Column("host_checks", "int", "Host cycles (agent fetches) since the daemon started",
           lambda s: _health(s, "cycles")),
    Column("host_checks_rate", "float", "Host cycles per second",
           lambda s: _health(s, "cycles") / max(1.0, s.now - STARTED)),
    Column("service_checks", "int", "Active and passive results since the daemon started",
           lambda s: _health(s, "services_checked")),
    Column("service_checks_rate", "float", "Results per second",
           lambda s: _health(s, "services_checked") / max(1.0, s.now - STARTED)),
    Column("forks", "int", "Plugins run since the daemon started", lambda s: _health(s, "plugins_run")),
    Column("forks_rate", "float", "Plugins run per second",
           lambda s: _health(s, "plugins_run") / max(1.0, s.now - STARTED)),
    Column("average_latency_service", "float", "Mean delay between due and start of recent checks (s)",
           _avg_delay),
    Column("average_latency_host", "float", "Mean delay between due and start of recent checks (s)", _avg_delay),
    Column("average_latency_generic", "float", "Mean delay between due and start of recent checks (s)",
           _avg_delay),
    _fixed("log_messages", "int", 0, "The log is the store's state history"),
    _fixed("log_messages_rate", "float", 0.0, "The log is the store's state history"),
    _fixed("cached_log_messages", "int", 0, "The log is read from the store"),
    _fixed("neb_callbacks", "int", 0, "No event broker"),
    _fixed("neb_callbacks_rate", "float", 0.0, "No event broker"),
    _fixed("external_commands", "int", 0, "Not counted"),
    _fixed("external_commands_rate", "float", 0.0, "Not counted"),
    _fixed("livechecks", "int", 0, "No livecheck helpers"),
    _fixed("livechecks_rate", "float", 0.0, "No livecheck helpers"),
    _fixed("livecheck_overflows", "int", 0, "No livecheck helpers"),
    _fixed("livecheck_overflows_rate", "float", 0.0, "No livecheck helpers"),
    _fixed("num_queued_notifications", "int", 0, "See the notification spool in the web UI"),
    _fixed("num_queued_alerts", "int", 0, "Not counted"),
    _fixed("helper_usage_generic", "float", 0.0, "Not measured"),
    _fixed("helper_usage_real_time", "float", 0.0, "Not measured"),
    _fixed("mk_inventory_last", "time", 0, "No inventory"),
    _fixed("state_file_created", "time", 0, "State is in the store"),
    _fixed("has_event_handlers", "int", 0, "No event handlers"),
    _fixed("edition", "string", "", "Not Checkmk"),
    _fixed("license_usage_history", "string", "", "Not Checkmk"),
]


# ---------------------------------------------------------------------- log, downtimes, comments
def _log_type(entry: LogEntry) -> str:
    return "SERVICE ALERT" if entry.service else "HOST ALERT"


def _log_state_name(entry: LogEntry) -> str:
    if not entry.service:
        return "UP" if entry.state == 0 else "DOWN"
    return NAGIOS_SERVICE_STATES[entry.state] if 0 <= entry.state <= 3 else "PENDING"


def _log_options(entry: LogEntry) -> str:
    service = f"{entry.service};" if entry.service else ""
    return f"{entry.host};{service}{_log_state_name(entry)};HARD;1;{entry.output}"


LOG_COLUMNS = [
    Column("time", "time", "When", lambda e: e.time),
    Column("lineno", "int", "Position in the state history", lambda e: e.lineno),
    Column("class", "int", "1: alert (a state change)", lambda e: 1),
    Column("type", "string", "HOST ALERT or SERVICE ALERT", _log_type),
    Column("state", "int", "The new state",
           lambda e: (0 if e.state == 0 else 1) if not e.service else max(e.state, 0)),
    Column("state_type", "string", "HARD: Watchkeeper records each change of the result, all reported HARD",
           lambda e: "HARD"),
    Column("attempt", "int", "Always 1", lambda e: 1),
    Column("host_name", "string", "Host", lambda e: e.host),
    Column("service_description", "string", "Service, empty for the host", lambda e: e.service),
    Column("plugin_output", "string", "Summary", lambda e: e.output),
    Column("options", "string", "The message after the colon", _log_options),
    Column("message", "string", "The whole log line",
           lambda e: f"[{e.time}] {_log_type(e)}: {_log_options(e)}"),
    _fixed("contact_name", "string", "", "Alerts name no contact"),
    _fixed("command_name", "string", "", "Alerts name no command"),
    _fixed("comment", "string", "", "Alerts carry no comment"),
    _fixed("current_host_contacts", "list", [], "See the hosts table"),
    _fixed("current_service_contacts", "list", [], "See the services table"),
]

DOWNTIME_COLUMNS = [
    Column("id", "int", "Downtime id", lambda d: d.downtime.id),
    Column("host_name", "string", "Host (or glob)", lambda d: d.downtime.host),
    Column("service_description", "string", "Service (or glob), empty for the host",
           lambda d: d.downtime.service or ""),
    Column("is_service", "int", "1 for a service downtime", lambda d: int(d.downtime.service is not None)),
    Column("author", "string", "Author", lambda d: d.downtime.author),
    Column("comment", "string", "Comment", lambda d: d.downtime.comment),
    Column("start_time", "time", "Start", lambda d: _t(d.downtime.start if d.downtime.start != float("inf") else 0)),
    Column("entry_time", "time", "Its start (the time of entry is not kept)", lambda d: _t(d.downtime.start)),
    Column("end_time", "time", "End", lambda d: _t(d.downtime.end if d.downtime.end != float("inf") else 0)),
    Column("fixed", "int", "Always 1: downtimes here are fixed windows", lambda d: 1),
    Column("duration", "int", "Length in seconds",
           lambda d: _t(d.downtime.end - d.downtime.start if d.downtime.end != float("inf") else 0)),
    Column("recurring", "string", "A weekly window, or empty", lambda d: d.downtime.recurring),
    Column("triggered_by", "int", "Always 0", lambda d: 0),
    Column("type", "int", "0 active now, 1 pending", lambda d: 0 if d.active else 1),
]

COMMENT_COLUMNS = [
    Column("id", "int", "Comment id (a downtime's id, or one per acknowledgement)", lambda c: c.id),
    Column("host_name", "string", "Host", lambda c: c.host_name),
    Column("service_description", "string", "Service, empty for the host", lambda c: c.service_name),
    Column("is_service", "int", "1 for a service", lambda c: int(bool(c.service_name))),
    Column("type", "int", "1 host, 2 service", lambda c: 2 if c.service_name else 1),
    Column("author", "string", "Author", lambda c: c.author),
    Column("comment", "string", "Comment", lambda c: c.comment),
    Column("entry_time", "time", "When", lambda c: _t(c.entry_time)),
    Column("entry_type", "int", "2 downtime, 4 acknowledgement", lambda c: c.entry_type),
    Column("source", "int", "1: entered by a user or a command", lambda c: 1),
    Column("persistent", "int", "1: kept across restarts", lambda c: 1),
    Column("expires", "int", "1 when it expires", lambda c: int(c.expires is not None)),
    Column("expire_time", "time", "When it expires", lambda c: _t(c.expires if c.expires != float("inf") else 0)),
]

COLUMNS_COLUMNS = [
    Column("table", "string", "Table", lambda c: c[0]),
    Column("name", "string", "Column", lambda c: c[1].name),
    Column("description", "string", "What it means", lambda c: c[1].description),
    Column("type", "string", "int, float, time, string, list or dict", lambda c: c[1].type),
]


# ---------------------------------------------------------------------- joins
_HOST_JOIN = HOST_COLUMNS
SERVICE_COLUMNS = _merge(SERVICE_COLUMNS, _lifted("host_", _HOST_JOIN, lambda s: s.host, "host"))
_SERVICE_OWN = [c for c in SERVICE_COLUMNS if not c.name.startswith("host_") or c.name == "host_name"]
COMMENT_COLUMNS = _merge(COMMENT_COLUMNS, _lifted("host_", _HOST_JOIN, lambda c: c.host, "host"),
                         _lifted("service_", _SERVICE_OWN, lambda c: c.service, "service"))
DOWNTIME_COLUMNS = _merge(DOWNTIME_COLUMNS, _lifted("host_", _HOST_JOIN, lambda d: d.host, "host"),
                          _lifted("service_", _SERVICE_OWN, lambda d: d.service, "service"))
LOG_COLUMNS = _merge(LOG_COLUMNS)

HOSTSBYGROUP_COLUMNS = _merge(_lifted("", HOST_COLUMNS, lambda r: r[0]),
                              _lifted("hostgroup_", HOSTGROUP_COLUMNS, lambda r: r[1], "host group"))
SERVICESBYGROUP_COLUMNS = _merge(_lifted("", SERVICE_COLUMNS, lambda r: r[0]),
                                 _lifted("servicegroup_", SERVICEGROUP_COLUMNS, lambda r: r[1], "service group"))
SERVICESBYHOSTGROUP_COLUMNS = _merge(_lifted("", SERVICE_COLUMNS, lambda r: r[0]),
                                     _lifted("hostgroup_", HOSTGROUP_COLUMNS, lambda r: r[1], "host group"))

TABLES: dict[str, list[Column]] = {
    "hosts": HOST_COLUMNS, "services": SERVICE_COLUMNS, "hostgroups": HOSTGROUP_COLUMNS,
    "servicegroups": SERVICEGROUP_COLUMNS, "contacts": CONTACT_COLUMNS, "contactgroups": CONTACTGROUP_COLUMNS,
    "timeperiods": TIMEPERIOD_COLUMNS, "commands": COMMAND_COLUMNS, "hostsbygroup": HOSTSBYGROUP_COLUMNS,
    "servicesbygroup": SERVICESBYGROUP_COLUMNS, "servicesbyhostgroup": SERVICESBYHOSTGROUP_COLUMNS,
    "status": STATUS_COLUMNS, "log": LOG_COLUMNS, "downtimes": DOWNTIME_COLUMNS, "comments": COMMENT_COLUMNS,
    "columns": COLUMNS_COLUMNS,
}
COLUMN_INDEX = {table: {column.name: column for column in columns} for table, columns in TABLES.items()}
PREFIXES = {"hosts": "host_", "services": "service_", "hostgroups": "hostgroup_", "servicegroups": "servicegroup_",
            "contacts": "contact_", "contactgroups": "contactgroup_", "timeperiods": "timeperiod_",
            "commands": "command_"}
"""As in Livestatus, a column may be named with its table's prefix (`host_name` in hosts is `name`)."""


def _by_group(groups: Iterable[HostGroupView | ServiceGroupView], members: str) -> list[tuple[Any, Any]]:
    return [(member, group) for group in groups for member in getattr(group, members)]


ROWS: dict[str, Callable[[Snapshot, float], list[Any]]] = {
    "hosts": lambda snapshot, since: snapshot.hosts,
    "services": lambda snapshot, since: snapshot.services,
    "hostgroups": lambda snapshot, since: snapshot.hostgroups,
    "servicegroups": lambda snapshot, since: snapshot.servicegroups,
    "contacts": lambda snapshot, since: snapshot.contact_views,
    "contactgroups": lambda snapshot, since: snapshot.contactgroups,
    "timeperiods": lambda snapshot, since: snapshot.timeperiods,
    "commands": lambda snapshot, since: snapshot.commands,
    "hostsbygroup": lambda snapshot, since: _by_group(snapshot.hostgroups, "hosts"),
    "servicesbygroup": lambda snapshot, since: _by_group(snapshot.servicegroups, "services"),
    "servicesbyhostgroup": lambda snapshot, since: _by_group(snapshot.hostgroups, "services"),
    "status": lambda snapshot, since: [snapshot],
    "log": lambda snapshot, since: snapshot.log(since),
    "downtimes": lambda snapshot, since: snapshot.downtime_views,
    "comments": lambda snapshot, since: snapshot.comment_views,
    "columns": lambda snapshot, since: [(name, column) for name, columns in TABLES.items() for column in columns],
}
"""Each table's rows, read from the snapshot only when a query asks for that table."""


def rows_of(table: str, snapshot: Snapshot, log_since: float = 0.0) -> list[Any]:
    return ROWS[table](snapshot, log_since)


__all__ = ["COLUMN_INDEX", "PREFIXES", "TABLES", "Column", "CommentView", "rows_of"]
