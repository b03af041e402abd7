"""`inventory`: sources that make, change and retire hosts (hypervisors' domains, a file);
`inventory sync --dry-run` shows what a sync would change."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from typing import Any

from watchkeeper.cli.common import open_store, parse_duration, parse_label
from watchkeeper.errors import ConfigError
from watchkeeper.inventory.sync import sync
from watchkeeper.model.inventory import DEFAULT_GRACE_S, InventorySource
from watchkeeper.store.inventory_tables import InventoryTables


def cmd_source_add(args: argparse.Namespace) -> int:
    if (args.piggyback_from is None) == (args.file is None):
        raise ConfigError("name what makes the hosts: --piggyback-from GLOB or --file PATH (one of them)")
    source = InventorySource(args.name, "piggyback" if args.file is None else "file",
                             source_hosts=args.piggyback_from or "*", path=args.file or "",
                             labels=dict(parse_label(text) for text in args.label),
                             interval_s=parse_duration(args.interval), grace_s=parse_duration(args.grace))
    InventoryTables(open_store(args)).add_source(source)
    what = f"the hosts the output of {source.source_hosts} speaks of" if source.kind == "piggyback" else source.path
    print(f"Added inventory source {source.name}: {what}. The daemon syncs it every 30 s; "
          f"`watchkeeper inventory sync --dry-run` shows what it would change now.")
    return 0


def cmd_source_list(args: argparse.Namespace) -> int:
    tables = InventoryTables(open_store(args))
    owned = tables.owned()
    for source in tables.sources():
        hosts = [o for o in owned.values() if o.source == source.name]
        retired = sum(1 for o in hosts if o.retired is not None)
        what = f"piggyback from {source.source_hosts}" if source.kind == "piggyback" else f"file {source.path}"
        labels = "".join(f" {k}={v}" for k, v in sorted(source.labels.items()))
        print(f"{source.name:<20} {what}, every {source.interval_s:g}s, removed {source.grace_s / 3600:g} h after "
              f"retiring; {len(hosts)} hosts ({retired} retired){labels}")
    return 0


def cmd_source_remove(args: argparse.Namespace) -> int:
    kept = InventoryTables(open_store(args)).remove_source(args.name)
    print(f"Removed inventory source {args.name}; its {kept} hosts stay, no longer any source's.")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    reports = sync(open_store(args), time.time(), dry_run=args.dry_run, only=args.source)
    verb = "would" if args.dry_run else "did"
    for report in reports:
        for change in report.changes:
            print(f"{report.source}: {verb} {change.action} {change.host} ({change.detail})")
        for problem in report.problems:
            print(f"{report.source}: {problem}")
        if not report.changes and not report.problems:
            print(f"{report.source}: nothing to change")
    if not reports:
        print("No inventory sources; add one with `watchkeeper inventory source add`.")
    return 1 if any(report.problems for report in reports) else 0


def cmd_log(args: argparse.Namespace) -> int:
    for entry in InventoryTables(open_store(args)).log(args.limit, args.host):
        when = datetime.fromtimestamp(entry.at).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{when} {entry.source}: {entry.action} {entry.host} ({entry.detail})")
    return 0


def register(sub: Any) -> None:
    inventory = sub.add_parser("inventory", help="hosts made by sources: hypervisors' domains, a file")
    isub = inventory.add_subparsers(dest="inventory_command", required=True)
    source = isub.add_parser("source", help="where hosts come from").add_subparsers(dest="source_command",
                                                                                       required=True)
    p = source.add_parser("add", help="e.g. `source add vms --piggyback-from 'hyp*'` or `--file /etc/hosts.yaml`")
    p.add_argument("name")
    p.add_argument("--piggyback-from", metavar="GLOB",
                   help="a host for every host the output of these hosts speaks of (hypervisors' domains)")
    p.add_argument("--file", metavar="PATH", help="the hosts listed in this YAML or CSV file")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE", help="for every host it makes")
    p.add_argument("--interval", default="60s", help="the check interval of its hosts (default 60s)")
    p.add_argument("--grace", default=f"{DEFAULT_GRACE_S / 86400:g}d",
                   help="how long a host its source no longer lists is kept, retired, before it is removed "
                        "(its history is kept; default 1d)")
    p.set_defaults(func=cmd_source_add)
    p = source.add_parser("list", help="the sources and their hosts")
    p.set_defaults(func=cmd_source_list)
    p = source.add_parser("remove", help="remove a source; its hosts stay")
    p.add_argument("name")
    p.set_defaults(func=cmd_source_remove)
    p = isub.add_parser("sync", help="make the hosts match the sources now (the daemon does every 30 s)")
    p.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    p.add_argument("--source", help="only this source")
    p.set_defaults(func=cmd_sync)
    p = isub.add_parser("log", help="what the sources changed, oldest first")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--host")
    p.set_defaults(func=cmd_log)
