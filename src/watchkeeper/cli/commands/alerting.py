"""`watchkeeper downtime`, `ack` and `notify`: alerting from the command line. The web API and
Livestatus commands call the same store functions."""

from __future__ import annotations

import argparse
import getpass
import time
from datetime import datetime
from typing import Any

from watchkeeper.checkapi import render
from watchkeeper.cli.common import open_store, parse_duration, parse_label, parse_options
from watchkeeper.errors import ConfigError
from watchkeeper.model.notifications import PROBLEM_STATES, Channel, Contact, NotificationRule
from watchkeeper.model.states import BY_NAME, NAMES
from watchkeeper.notify.actions import acknowledge, schedule_downtime
from watchkeeper.notify.notifier import Notifier
from watchkeeper.store.notify_tables import NotifyTables


def parse_time(text: str) -> float:
    if text == "now":
        return time.time()
    try:
        return datetime.fromisoformat(text).timestamp()  # without a zone: this machine's local time
    except ValueError as exc:
        raise ConfigError(f"time {text!r} is not understood; write 'now' or e.g. 2026-11-22T02:00 "
                          "(local time) or 2026-11-22T02:00+01:00") from exc


def _tables(args: argparse.Namespace) -> NotifyTables:
    return NotifyTables(open_store(args))


def _when(ts: float | None) -> str:
    return "-" if ts is None else render.datetime(ts)


# ---------------------------------------------------------------------- downtimes
def cmd_downtime_add(args: argparse.Namespace) -> int:
    tables = _tables(args)
    downtime = schedule_downtime(
        tables, args.host, args.service, start=parse_time(args.start) if args.start else None,
        end=parse_time(args.end) if args.end else None,
        duration_s=parse_duration(args.duration) if args.duration else None, weekly=args.weekly or "",
        zone=args.zone, author=args.author, comment=args.comment, now=time.time(), force=args.force)
    what = f"{args.host} {args.service}" if args.service else f"{args.host} and its services"
    when = (f"every {args.weekly} ({args.zone})" if args.weekly
            else f"{_when(downtime.start)} to {_when(downtime.end)}")
    print(f"Downtime {downtime.id}: {what}, {when}.")
    return 0


def cmd_downtime_list(args: argparse.Namespace) -> int:
    now = time.time()
    for d in _tables(args).downtimes():
        active = "ACTIVE " if d.covers(d.host if "*" not in d.host else d.host, "", now) else ""
        when = (f"every {d.recurring} ({d.zone})" if d.recurring else f"{_when(d.start)} to {_when(d.end)}")
        print(f"{d.id:>4} {active}{d.host} {d.service or '(host and services)'}: {when} by {d.author}: {d.comment}")
    return 0


def cmd_downtime_remove(args: argparse.Namespace) -> int:
    _tables(args).remove_downtime(args.id)
    return 0


# ---------------------------------------------------------------------- acknowledgements
def cmd_ack_add(args: argparse.Namespace) -> int:
    service = args.service or ""
    tables = _tables(args)
    ack = acknowledge(tables, args.host, service, args.author, args.comment, sticky=args.sticky,
                      expire_s=parse_duration(args.expire) if args.expire else None, now=time.time())
    summary = tables.current_state(args.host, service)[1]
    print(f"Acknowledged {args.host} {service or '(host)'} {NAMES[ack.state]}: {summary}"
          + (f"; expires {_when(ack.expires)}" if ack.expires else "") + (" (sticky)" if args.sticky else ""))
    return 0


def cmd_ack_list(args: argparse.Namespace) -> int:
    for ack in _tables(args).acknowledgements().values():
        print(f"{ack.host} {ack.service or '(host)'} {NAMES[ack.state]} by {ack.author} at {_when(ack.created)}"
              f"{' sticky' if ack.sticky else ''}{', expires ' + _when(ack.expires) if ack.expires else ''}: "
              f"{ack.comment}")
    return 0


def cmd_ack_remove(args: argparse.Namespace) -> int:
    if not _tables(args).remove_acknowledgement(args.host, args.service or ""):
        raise ConfigError(f"{args.host} {args.service or '(host)'} is not acknowledged")
    return 0


# ---------------------------------------------------------------------- notification set-up
def _config(pairs: list[str]) -> dict[str, Any]:
    return parse_options(pairs)


def cmd_channel_add(args: argparse.Namespace) -> int:
    channel = Channel(args.name, args.kind, _config(args.config))
    if channel.config.get("password"):
        raise ConfigError("a password is not stored in the store; put it in a file readable only by watchkeeper "
                          "and give password_file=PATH")
    _tables(args).set_channel(channel)
    print(f"Channel {args.name} ({args.kind}) saved.")
    return 0


def cmd_channel_remove(args: argparse.Namespace) -> int:
    _tables(args).remove("notify_channels", args.name)
    return 0


def cmd_contact_remove(args: argparse.Namespace) -> int:
    _tables(args).remove("notify_contacts", args.name)
    return 0


def cmd_contact_add(args: argparse.Namespace) -> int:
    _tables(args).set_contact(Contact(args.name, args.email or "", tuple(args.channel)))
    print(f"Contact {args.name} saved.")
    return 0


def cmd_rule_add(args: argparse.Namespace) -> int:
    spec: dict[str, Any] = {"name": args.name, "hosts": args.host, "services": args.service,
                            "service_regex": args.service_regex, "summary_regex": args.summary_regex,
                            "labels": dict(parse_label(pair) for pair in args.label),
                            "states": tuple(args.state or PROBLEM_STATES), "transitions": tuple(args.transition),
                            "period": args.period, "zone": args.zone, "contacts": tuple(args.contact),
                            "after_s": parse_duration(args.after), "renotify_s": parse_duration(args.renotify),
                            "grace_s": parse_duration(args.grace), "bulk_s": parse_duration(args.bulk),
                            "digest_at": args.digest_at, "suppress": args.suppress, "stop": args.stop,
                            "comment": args.comment}
    rule_id = _tables(args).add_rule(NotificationRule.from_json(0, spec))
    print(f"Notification rule {rule_id} added; the daemon uses it within seconds.")
    return 0


def cmd_rule_remove(args: argparse.Namespace) -> int:
    _tables(args).remove_rule(args.id)
    return 0


def cmd_notify_list(args: argparse.Namespace) -> int:
    tables = _tables(args)
    print("Channels:")
    for channel in tables.channels().values():
        shown = " ".join(f"{k}={'***' if k in ('url', 'headers') else v}" for k, v in channel.config.items())
        print(f"  {channel.name} ({channel.kind}) {shown}")
    print("Contacts:")
    for contact in tables.contacts().values():
        print(f"  {contact.name} <{contact.email}> via {', '.join(contact.channels)}")
    print("Rules (in order; the first matching suppress rule stops the rest):")
    for rule in tables.rules():
        print(f"  {rule.id:>3} {rule.describe()}")
    return 0


def cmd_notify_test(args: argparse.Namespace) -> int:
    state = BY_NAME.get(args.state.upper())
    if state is None:
        raise ConfigError(f"state {args.state!r} is not one of OK WARN CRIT UNKNOWN STALE UP DOWN")
    notifier = Notifier(_tables(args))
    service = "" if args.service in ("", "-") else args.service
    for line in notifier.explain(args.host, service, state, args.summary, time.time()):
        print(line)
    return 0


def cmd_notify_log(args: argparse.Namespace) -> int:
    rows = _tables(args).log(args.limit)
    if not rows:
        print("nothing has been notified yet")
    for row in reversed(rows):
        what = row.body.get("subject") or f"{row.body.get('host')} {row.body.get('service')} {row.body.get('kind')}"
        when = _when(row.sent if row.sent else row.due)
        error = f"  ({row.last_error})" if row.last_error else ""
        tries = f" after {row.attempts} attempts" if row.attempts > 1 else ""
        print(f"{when}  {row.status:<8} {row.contact} via {row.channel}{tries}: {what}{error}")
    return 0


# ---------------------------------------------------------------------- parsers
def register(sub: Any) -> None:
    author = getpass.getuser()
    downtime = sub.add_parser("downtime", help="planned maintenance: no notifications while it lasts")
    dsub = downtime.add_subparsers(dest="downtime_command", required=True)
    p = dsub.add_parser("add", help="e.g. `downtime add web1 --duration 2h --comment kernel` or "
                                    "`downtime add '*' --weekly 'sun 02:00-04:00' --zone Europe/Berlin`")
    p.add_argument("host", help="host name or glob")
    p.add_argument("service", nargs="?", help="service name or glob (default: the host and all its services)")
    p.add_argument("--force", action="store_true", help="schedule it even if no host or service matches yet")
    p.add_argument("--start", help="'now' or ISO time (default now)")
    p.add_argument("--end", help="ISO time")
    p.add_argument("--duration", help="e.g. 2h")
    p.add_argument("--weekly", help="recurring window, e.g. 'sun 02:00-04:00' or 'mon-fri 22:00-06:00'")
    p.add_argument("--zone", default="UTC", help="time zone of --weekly (default UTC)")
    p.add_argument("--author", default=author)
    p.add_argument("--comment", required=True)
    p.set_defaults(func=cmd_downtime_add)
    p = dsub.add_parser("list", help="list downtimes")
    p.set_defaults(func=cmd_downtime_list)
    p = dsub.add_parser("remove", help="remove a downtime")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_downtime_remove)

    ack = sub.add_parser("ack", help="acknowledge a problem: no more notifications about it until it changes")
    asub = ack.add_subparsers(dest="ack_command", required=True)
    p = asub.add_parser("add", help="acknowledge the current problem of a host or service")
    p.add_argument("host")
    p.add_argument("service", nargs="?")
    p.add_argument("--comment", required=True)
    p.add_argument("--author", default=author)
    p.add_argument("--sticky", action="store_true", help="hold until OK, even if the problem changes state")
    p.add_argument("--expire", help="end it after this long, e.g. 4h")
    p.set_defaults(func=cmd_ack_add)
    p = asub.add_parser("list", help="list acknowledgements")
    p.set_defaults(func=cmd_ack_list)
    p = asub.add_parser("remove", help="remove an acknowledgement")
    p.add_argument("host")
    p.add_argument("service", nargs="?")
    p.set_defaults(func=cmd_ack_remove)

    notify = sub.add_parser("notify", help="channels, contacts, notification rules, dry runs and the delivery log")
    nsub = notify.add_subparsers(dest="notify_command", required=True)
    p = nsub.add_parser("list", help="show channels, contacts and rules")
    p.set_defaults(func=cmd_notify_list)
    p = nsub.add_parser("test", help="dry run: who would be told if HOST SERVICE became STATE, and why")
    p.add_argument("host")
    p.add_argument("service", help="service name, or - for the host itself")
    p.add_argument("state", help="OK WARN CRIT UNKNOWN STALE (hosts: UP DOWN)")
    p.add_argument("--summary", default="")
    p.set_defaults(func=cmd_notify_test)
    p = nsub.add_parser("log", help="messages sent, waiting, retried and failed, with their errors")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_notify_log)

    channel = nsub.add_parser("channel", help="where messages go: email, webhook, script")
    csub = channel.add_subparsers(dest="channel_command", required=True)
    p = csub.add_parser("add", help="e.g. `channel add mail email host=smtp.example.org port=587 tls=starttls "
                                    "user=wk password_file=/etc/watchkeeper/smtp.pw sender=wk@example.org`")
    p.add_argument("name")
    p.add_argument("kind", choices=["email", "webhook", "script"])
    p.add_argument("config", nargs="*", metavar="KEY=VALUE",
                   help="email: host port tls=none|starttls|tls user password_file sender ca_file; "
                        "webhook: url template headers ca_file; script: argv='[\"/path\", \"arg\"]' timeout_s")
    p.set_defaults(func=cmd_channel_add)
    p = csub.add_parser("remove")
    p.add_argument("name")
    p.set_defaults(func=cmd_channel_remove)

    contact = nsub.add_parser("contact", help="who is told, and on which channels")
    tsub = contact.add_subparsers(dest="contact_command", required=True)
    p = tsub.add_parser("add")
    p.add_argument("name")
    p.add_argument("--email")
    p.add_argument("--channel", action="append", required=True, help="channel name (repeatable)")
    p.set_defaults(func=cmd_contact_add)
    p = tsub.add_parser("remove")
    p.add_argument("name")
    p.set_defaults(func=cmd_contact_remove)

    rule = nsub.add_parser("rule", help="which changes go to whom (rules apply in order of id)")
    rsub = rule.add_subparsers(dest="rule_command", required=True)
    p = rsub.add_parser("add", help="e.g. `rule add --name storage --label role=storage --state CRIT --contact ops`")
    p.add_argument("--name", default="")
    p.add_argument("--host", default="*", help="host glob")
    p.add_argument("--service", default="*", help="service glob ('' matches host notifications only)")
    p.add_argument("--service-regex", default="")
    p.add_argument("--summary-regex", default="")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE", help="host label (repeatable)")
    p.add_argument("--state", action="append", help=f"repeatable; default {' '.join(PROBLEM_STATES)}")
    p.add_argument("--transition", action="append", default=[], help="e.g. 'OK>CRIT' or '*>CRIT' (repeatable)")
    p.add_argument("--period", default="", help="weekly window, e.g. 'mon-fri 08:00-18:00'")
    p.add_argument("--zone", default="UTC")
    p.add_argument("--contact", action="append", default=[], help="contact name (repeatable)")
    p.add_argument("--after", default="0", help="escalation: only once hard this long, e.g. 30m")
    p.add_argument("--renotify", default="0", help="repeat unacknowledged problems this often, e.g. 1d")
    p.add_argument("--grace", default="0", help="never tell problems that recover within this long")
    p.add_argument("--bulk", default="2m", help="group what happens within this window (default 2m)")
    p.add_argument("--digest-at", default="", help="HH:MM: one daily digest instead of single messages")
    p.add_argument("--suppress", action="store_true", help="matching events are never told (known benign)")
    p.add_argument("--stop", action="store_true", help="when this rule matches, rules after it are not tried")
    p.add_argument("--comment", default="")
    p.set_defaults(func=cmd_rule_add)
    p = rsub.add_parser("list")
    p.set_defaults(func=cmd_notify_list)
    p = rsub.add_parser("remove")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_rule_remove)
