"""`run`: the monitoring daemon (assembled in `watchkeeper.daemon`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from pathlib import Path
from typing import Any

from watchkeeper import __version__
from watchkeeper.cli.commands import web_access
from watchkeeper.cli.common import listen_address, log, open_store
from watchkeeper.errors import ConfigError
from watchkeeper.paths import Paths
from watchkeeper.tsdb.remote_write import RemoteWriteConfig


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
                            initial_password_file=paths.home / web_access.INITIAL_PASSWORD_FILE,
                            remote_write=remote_write_config(args), remote_read=args.remote_read)
    scheduler = asyncio.run(run_daemon(store, paths, options))
    log.info("stopped cleanly after %d host cycles", scheduler.stats.cycles)
    store.close()
    return 0


def remote_write_config(args: argparse.Namespace) -> RemoteWriteConfig | None:
    if args.remote_read and not args.remote_write:
        raise ConfigError("--remote-read needs --remote-write: graphs read back what this daemon sends")
    if not args.remote_write:
        return None
    if not args.remote_write.startswith(("http://", "https://")):
        raise ConfigError(f"--remote-write {args.remote_write!r}: give the receiver's URL, such as "
                          "http://127.0.0.1:8428/api/v1/write (VictoriaMetrics) or "
                          "http://127.0.0.1:9090/api/v1/write (Prometheus with --web.enable-remote-write-receiver)")
    token = None
    if args.remote_write_token_file:
        try:
            token = Path(args.remote_write_token_file).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"--remote-write-token-file {args.remote_write_token_file}: {exc.strerror}") from exc
    return RemoteWriteConfig(url=args.remote_write, site=args.site or socket.gethostname(), token=token,
                             max_backlog_bytes=int(args.remote_write_max_backlog_mib * 1024 * 1024))


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the monitoring daemon (logs to stderr; stops cleanly on SIGTERM)")
    p.add_argument("--concurrency", type=int, default=64, help="fetches at the same time (default 64)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--livestatus-tcp", metavar="[ADDRESS:]PORT",
                   help="also answer Livestatus on TCP (address default 127.0.0.1; the unix socket is always on)")
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="[ADDRESS:]PORT",
                   help="web UI and API (default 127.0.0.1:8080; 'off' for none)")
    p.add_argument("--remote-write", metavar="URL",
                   help="also send every metric sample to a Prometheus remote-write receiver "
                        "(VictoriaMetrics, Prometheus); queued in the store while it does not answer")
    p.add_argument("--remote-write-token-file", metavar="FILE", help="a bearer token for it, read from a file")
    p.add_argument("--remote-write-max-backlog-mib", type=float, default=512.0,
                   help="queue at most this much while the receiver is down; the oldest goes first (default 512)")
    p.add_argument("--remote-read", metavar="URL",
                   help="draw graphs from that database's PromQL API (e.g. http://127.0.0.1:8428)")
    p.add_argument("--site", help="this Watchkeeper's site label on remote-written series (default: host name)")
    p.set_defaults(func=cmd_run)
