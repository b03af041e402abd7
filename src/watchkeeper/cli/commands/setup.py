"""`init` and `ssh-key`: a new store, this machine as its first host, Watchkeeper's SSH key."""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

from watchkeeper.cli.commands import web_access
from watchkeeper.cli.commands.hosts import fetch_and_discover
from watchkeeper.cli.common import ensure_client_key
from watchkeeper.errors import ConfigError
from watchkeeper.model.hosts import HostConfig, check_host_name
from watchkeeper.paths import Paths
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables


def local_host_name() -> str:
    name = socket.gethostname().split(".")[0] or "localhost"
    try:
        return check_host_name(name)
    except ConfigError:
        return "localhost"


def cmd_init(args: argparse.Namespace) -> int:
    paths = Paths.resolve(args.home)
    store = Store(paths.database)
    NotifyTables(store).seed_defaults()
    ensure_client_key(paths)
    password_file = web_access.ensure_initial_user(store, paths.home)
    if password_file is not None:
        print(f"Web UI user `admin`: its password is in {password_file} (readable only by you).")
    name = local_host_name()
    if args.local and not store.hosts():
        store.add_host(HostConfig(name, "local"))
        found, _agent = asyncio.run(fetch_and_discover(store, paths, name))
        print(f"Added this machine as host {name!r} with {found} services.")
    print(f"Store: {paths.database}")
    print("Next: `watchkeeper run` to start monitoring, `watchkeeper status` to look.")
    return 0


def cmd_ssh_key(args: argparse.Namespace) -> int:
    key = ensure_client_key(Paths.resolve(args.home))
    sys.stdout.write(Path(str(key) + ".pub").read_text())
    return 0


def register(sub: Any) -> None:

    p = sub.add_parser("init", help="create the store and add this machine")
    p.add_argument("--no-local", dest="local", action="store_false", help="do not add this machine")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("ssh-key", help="print Watchkeeper's SSH public key (for authorized_keys)")
    p.set_defaults(func=cmd_ssh_key)
