"""`watchkeeper patch plan`: which hosts to patch now, which can wait, which need a window."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from watchkeeper.checkapi import render
from watchkeeper.cli.common import open_store
from watchkeeper.patching.facts import fleet_facts
from watchkeeper.patching.inventory import as_ini, as_yaml
from watchkeeper.patching.plan import plan


def cmd_patch_plan(args: argparse.Namespace) -> int:
    store = open_store(args)
    decisions = plan(fleet_facts(store, time.time()), time.time())
    if args.ansible_inventory:
        print(as_yaml(decisions) if args.format == "yaml" else as_ini(decisions), end="")
        return 0
    if args.json:
        print(json.dumps([d.as_json() for d in decisions], indent=2))
        return 0
    if not decisions:
        print("no host has pending updates (as far as its `APT updates` service has seen)")
    for decision in decisions:
        window = f" (next window {render.datetime(decision.next_window)})" if decision.next_window else ""
        print(f"{decision.host}: {decision.decision}{window}")
        for reason in decision.reasons:
            print(f"    - {reason}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("patch", help="the patch plan: patch now, wait, or needs a window, with reasons")
    patch = p.add_subparsers(dest="patch_command", required=True)
    q = patch.add_parser("plan", help="decide per host with pending updates (see docs/hygiene.md)")
    q.add_argument("--json", action="store_true")
    q.add_argument("--ansible-inventory", action="store_true",
                   help="print an Ansible inventory with groups patchnow, patchwindow and patchwait")
    q.add_argument("--format", choices=("ini", "yaml"), default="ini", help="of the Ansible inventory")
    q.set_defaults(func=cmd_patch_plan)
