"""`rule`: check parameters for matching hosts and items."""

from __future__ import annotations

import argparse
import json
from typing import Any

from watchkeeper.cli.common import open_store, parse_label, parse_options
from watchkeeper.errors import ConfigError


def cmd_rule_add(args: argparse.Namespace) -> int:
    from watchkeeper.checkapi import build_params
    from watchkeeper.engine.catalog import plugins_by_name

    store = open_store(args)
    plugin = plugins_by_name().get(args.plugin)
    if plugin is None:
        raise ConfigError(f"there is no check plugin {args.plugin!r}; known: {', '.join(sorted(plugins_by_name()))}")
    params = parse_options(args.params)
    build_params(plugin.default_params, params)  # refuse a rule the checks could not use
    labels = dict(parse_label(text) for text in args.label)
    rule_id = store.add_rule(args.plugin, params, args.host, args.item, args.comment, labels)
    print(f"Added rule {rule_id}; the daemon applies it within a second.")
    return 0


def cmd_rule_list(args: argparse.Namespace) -> int:
    for rule in open_store(args).rules():
        labels = "".join(f" label:{key}={value}" for key, value in rule.host_labels.items())
        print(f"{rule.id:>4} {rule.plugin:<20} host={rule.host_glob}{labels} item={rule.item_glob} "
              f"{json.dumps(rule.params)} {rule.comment}")
    return 0


def cmd_rule_remove(args: argparse.Namespace) -> int:
    open_store(args).remove_rule(args.id)
    return 0


def register(sub: Any) -> None:
    rule = sub.add_parser("rule", help="check parameters for matching hosts and items")
    rsub = rule.add_subparsers(dest="rule_command", required=True)
    p = rsub.add_parser("add", help="add a rule, e.g. `rule add df used_percent=[85,95] --item '/srv*'`")
    p.add_argument("plugin")
    p.add_argument("params", nargs="+", metavar="KEY=VALUE", help="values in JSON: 5, [80,90], \"10:\"")
    p.add_argument("--host", default="*", help="host name glob (default *)")
    p.add_argument("--item", default="*", help="item glob (default *)")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                   help="only hosts carrying this label with this value (repeatable: all must match)")
    p.add_argument("--comment", default="")
    p.set_defaults(func=cmd_rule_add)
    p = rsub.add_parser("list", help="list rules")
    p.set_defaults(func=cmd_rule_list)
    p = rsub.add_parser("remove", help="remove a rule")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_rule_remove)
