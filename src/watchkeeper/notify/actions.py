"""Acknowledging and scheduling downtimes: one place for the rules, used by the CLI, the web
API and UI, and Livestatus commands alike."""

from __future__ import annotations

import difflib
import fnmatch

from watchkeeper.errors import ConfigError
from watchkeeper.model.calendar import check_zone, parse_window
from watchkeeper.model.notifications import Acknowledgement, Downtime
from watchkeeper.model.states import OK
from watchkeeper.store.notify_tables import NotifyTables


def acknowledge(tables: NotifyTables, host: str, service: str, author: str, comment: str, *, sticky: bool,
                expire_s: float | None, now: float) -> Acknowledgement:
    state, _ = tables.current_state(host, service)
    if state == OK:
        raise ConfigError(f"{host} {service or '(host)'} is OK: there is no problem to acknowledge")
    ack = Acknowledgement(host, service, state, author, comment, sticky,
                          now + expire_s if expire_s else None, now)
    tables.acknowledge(ack)
    return ack


def _covers_something(tables: NotifyTables, host: str, service: str | None) -> None:
    """A downtime whose host or service matches nothing is a typo that would silence nothing:
    refused, with the names that come closest."""
    hosts = [name for (name,) in tables.store.query("SELECT name FROM hosts")]
    matched = [name for name in hosts if fnmatch.fnmatchcase(name, host)]
    if not matched:
        near = difflib.get_close_matches(host, hosts, n=3)
        raise ConfigError(f"no host matches {host!r}" + (f"; did you mean {', '.join(near)}?" if near else "")
                          + " (`--force` schedules it all the same, for a host not added yet)")
    if service is None:
        return
    services = [name for (hostname, name) in tables.store.query("SELECT host, name FROM services")
                if hostname in matched]
    if not any(fnmatch.fnmatchcase(name, service) for name in services):
        near = difflib.get_close_matches(service, sorted(set(services)), n=3)
        raise ConfigError(f"no service of {host} matches {service!r}"
                          + (f"; did you mean {', '.join(repr(n) for n in near)}?" if near else "")
                          + " (`--force` schedules it all the same)")


def schedule_downtime(tables: NotifyTables, host: str, service: str | None, *, start: float | None,
                      end: float | None, duration_s: float | None, weekly: str, zone: str, author: str,
                      comment: str, now: float, force: bool = False) -> Downtime:
    """A one-off window (start, then end or duration) or a weekly one (between optional start and end),
    for hosts and services that exist (unless `force`)."""
    if not force:
        _covers_something(tables, host, service)
    if weekly:
        parse_window(weekly, check_zone(zone))
        first = now if start is None else start
        last = float("inf") if end is None else end
    else:
        check_zone(zone)
        first = now if start is None else start
        if end is not None:
            last = end
        elif duration_s:
            last = first + duration_s
        else:
            raise ConfigError("a one-off downtime needs an end or a duration (or a weekly window for a recurring one)")
    if last <= first:
        raise ConfigError("the downtime ends before it starts")
    if not comment.strip():
        raise ConfigError("say why in the comment: it is shown to whoever wonders why nothing was sent")
    downtime = Downtime(0, host, service, first, last, weekly, zone, author, comment)
    downtime_id = tables.add_downtime(downtime)
    return Downtime(downtime_id, host, service, first, last, weekly, zone, author, comment)
