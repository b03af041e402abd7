"""`run`: the monitoring daemon (assembled in `watchkeeper.daemon`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from watchkeeper import __version__
from watchkeeper.cli.commands import web_access
from watchkeeper.cli.common import listen_address, log, open_store
from watchkeeper.paths import Paths


def cmd_run(args: argparse.Namespace) -> int:
    from watchkeeper.daemon import DaemonOptions, run_daemon

    logging.basicConfig(level=getattr(logging, args.log_level.upper()), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    paths = Paths.resolve(args.home)
    store = open_store(args)
    listen = None if args.listen == "off" else listen_address(args.listen, 8080)
    web_access.ensure_initial_user(store, paths.home)
    hosts = store.hosts()
    log.info("watchkeeper %s: monitoring %d hosts; store %s", __version__, len(hosts), paths.database)
    log.info("look at the state with: %s status%s", sys.argv[0] if "/" in sys.argv[0] else "watchkeeper",
             f" --home {args.home}" if args.home else "")
    options = DaemonOptions(concurrency=args.concurrency, web=listen,
                            livestatus_tcp=listen_address(args.livestatus_tcp, 6557),
                            initial_password_file=paths.home / web_access.INITIAL_PASSWORD_FILE)
    scheduler = asyncio.run(run_daemon(store, paths, options))
    log.info("stopped cleanly after %d host cycles", scheduler.stats.cycles)
    store.close()
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the monitoring daemon (logs to stderr; stops cleanly on SIGTERM)")
    p.add_argument("--concurrency", type=int, default=64, help="fetches at the same time (default 64)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--livestatus-tcp", metavar="[ADDRESS:]PORT",
                   help="also answer Livestatus on TCP (address default 127.0.0.1; the unix socket is always on)")
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="[ADDRESS:]PORT",
                   help="web UI and API (default 127.0.0.1:8080; 'off' for none)")
    p.set_defaults(func=cmd_run)
