"""`watchkeeper import nagios PATH/nagios.cfg`: a Nagios (or Icinga 1) configuration becomes
hosts and active services, with a report of what had no equivalent."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from watchkeeper.cli.common import open_store
from watchkeeper.model.notifications import Contact
from watchkeeper.nagios_import.mapping import map_config
from watchkeeper.nagios_import.objects import read_config
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.notify_tables import NotifyTables


def cmd_import_nagios(args: argparse.Namespace) -> int:
    report = map_config(read_config(Path(args.path)))
    lines = report.lines()
    if report.unreadable:
        print("\n".join(["Nothing imported: " + lines[0], *lines[1:]]))
        return 2
    if args.dry_run:
        print("\n".join(["Dry run, nothing stored: " + lines[0], *lines[1:]]))
        return 0
    store = open_store(args)
    existing = {row.config.name for row in store.hosts()}
    added = 0
    for host in report.hosts:
        if host.name in existing:
            lines.append(f"kept: host {host.name} exists already; its imported services are updated")
            continue
        store.add_host(host)
        added += 1
    ActiveTables(store).add_many(report.checks)
    notify = NotifyTables(store)
    notify.seed_defaults()
    channels = notify.channels()
    for name, email in report.contacts.items():
        notify.set_contact(Contact(name, email, ("mail",) if "mail" in channels else ()))
    if report.silenced:
        quiet_host, quiet_service = report.silenced[0]
        lines.append(f"notifications were off in Nagios for {len(report.silenced)} hosts or services (first: "
                     f"{quiet_host} {quiet_service or '(host)'}); Watchkeeper's notification rules apply to them: "
                     "keep them quiet with `watchkeeper notify rule add --suppress ...`")
    print(f"Imported {added} new hosts and {len(report.checks)} services from {args.path}; the daemon picks them "
          f"up within 10 s.\n" + "\n".join(lines))
    return 0


def register(sub: Any) -> None:
    imports = sub.add_parser("import", help="import another monitoring system's configuration")
    isub = imports.add_subparsers(dest="import_command", required=True)
    p = isub.add_parser("nagios", help="hosts, services and commands from nagios.cfg and the files it names")
    p.add_argument("path", help="the main configuration file, e.g. /etc/nagios4/nagios.cfg")
    p.add_argument("--dry-run", action="store_true", help="report what would be imported, store nothing")
    p.set_defaults(func=cmd_import_nagios)
