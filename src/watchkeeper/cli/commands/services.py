"""`watchkeeper service` (active and passive services) and `watchkeeper submit` (passive results)."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import socket
import time
from typing import Any

from watchkeeper.active.execute import execute
from watchkeeper.cli.common import open_store, parse_duration
from watchkeeper.collect.hosts import make_transport
from watchkeeper.collect.ssh import SshTransport
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.errors import ConfigError, DaemonNotRunning, NotFound
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.states import BY_NAME, NAMES
from watchkeeper.paths import Paths
from watchkeeper.store.active_tables import ActiveTables


def _tables(args: argparse.Namespace) -> ActiveTables:
    return ActiveTables(open_store(args))


def parse_state(text: str) -> int:
    """0-3 or a name: OK, WARN(ING), CRIT(ICAL), UNKNOWN."""
    upper = text.strip().upper()
    aliases = {"WARNING": "WARN", "CRITICAL": "CRIT"}
    if upper in ("0", "1", "2", "3"):
        return int(upper)
    state = BY_NAME.get(aliases.get(upper, upper))
    if state is None or state not in (0, 1, 2, 3):
        raise ConfigError(f"state {text!r} is not one of 0-3, OK, WARN, CRIT, UNKNOWN")
    return state


def cmd_service_add(args: argparse.Namespace) -> int:
    tables = _tables(args)
    argv = list(args.plugin_argv)
    if len(argv) == 1 and " " in argv[0].strip():
        raise ConfigError("the command is one string with spaces; give the plugin and each argument separately "
                          f"after `--`, e.g. -- {shlex.join(shlex.split(argv[0]))}")
    check = ActiveCheck(
        args.host, args.name, tuple(argv), interval_s=parse_duration(args.interval),
        retry_interval_s=parse_duration(args.retry_interval), max_attempts=args.max_attempts,
        timeout_s=parse_duration(args.timeout), on=args.on, passive=args.passive,
        freshness_s=parse_duration(args.freshness) if args.freshness else 0.0,
        stale_state=parse_state(args.stale_state), host_check=args.host_check, groups=tuple(args.group))
    tables.store.host(args.host)
    tables.add(check, replace=args.replace)
    print(f"{'Passive' if check.passive else 'Active'} service {args.host}/{args.name} added; the daemon "
          "picks it up within 10 s.")
    return 0


def cmd_service_list(args: argparse.Namespace) -> int:
    checks = _tables(args).checks(args.host)
    if not checks:
        print("No active or passive services; add one with `watchkeeper service add HOST NAME -- PLUGIN ARGS`.")
    for check in checks:
        if check.passive:
            fresh = f"fresh within {check.freshness_s:g}s" if check.freshness_s else "no freshness check"
            print(f"{check.host:<20} {check.name:<30} passive, {fresh}")
        else:
            print(f"{check.host:<20} {check.name:<30} every {check.interval_s:g}s on {check.on}: "
                  f"{shlex.join(check.argv)}")
    return 0


def cmd_service_remove(args: argparse.Namespace) -> int:
    _tables(args).remove(args.host, args.name)
    print(f"Removed {args.host}/{args.name} with its history.")
    return 0


def cmd_service_run(args: argparse.Namespace) -> int:
    """Run an active service once, now, and print what the daemon would record."""
    tables = _tables(args)
    check = next((c for c in tables.checks(args.host) if c.name == args.name and not c.passive), None)
    if check is None:
        raise ConfigError(f"{args.host} has no active service {args.name!r}")
    host = tables.store.host(args.host).config

    async def once() -> Any:
        transport = make_transport(host, Paths.resolve(args.home), builtin_catalog().snmp_sections)
        try:
            return await execute(check, host, transport if isinstance(transport, SshTransport) else None)
        finally:
            await transport.close()

    outcome = asyncio.run(once())
    print(f"{NAMES[outcome.state]} - {outcome.summary}")
    if outcome.details:
        print(outcome.details)
    for metric in outcome.metrics:
        print(f"  {metric.name} = {metric.value:g}")
    return int(outcome.state)


def cmd_submit(args: argparse.Namespace) -> int:
    _tables(args).submit(args.host, args.service, parse_state(args.state), args.output)
    return 0


def cmd_check_now(args: argparse.Namespace) -> int:
    """Ask the running daemon, over its Livestatus socket, to check a host or a service now."""
    store = open_store(args)
    store.host(args.host)  # a typo is refused here: Livestatus commands get no answer
    if args.service and not any(row.name == args.service for row in store.services(args.host)):
        raise NotFound(f"{args.host} has no service {args.service!r}; `watchkeeper status {args.host}` lists them")
    now = int(time.time())
    command = (f"SCHEDULE_FORCED_SVC_CHECK;{args.host};{args.service};{now}" if args.service
               else f"SCHEDULE_FORCED_HOST_CHECK;{args.host};{now}")
    if any(char in command for char in "\n\r"):
        raise ConfigError("a host or service name with a line break cannot be passed to the daemon")
    socket_path = Paths.resolve(args.home).livestatus_socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(5.0)
            client.connect(str(socket_path))
            client.sendall(f"COMMAND [{now}] {command}\n".encode())
    except OSError as exc:
        raise DaemonNotRunning(f"the daemon does not answer at {socket_path} ({exc.strerror or exc}); "
                                "is `watchkeeper run` running?") from exc
    what = f"{args.host} {args.service}" if args.service else f"{args.host} (its agent and every agent service)"
    print(f"Asked the daemon to check {what} now; `watchkeeper status {args.host}` shows the result.")
    return 0


def register(sub: Any) -> None:
    service = sub.add_parser("service", help="active checks (Nagios plugins) and passive services")
    ssub = service.add_subparsers(dest="service_command", required=True)
    p = ssub.add_parser("add", help="e.g. `service add web1 HTTP -- check_http -H '$HOSTADDRESS$'`, "
                                    "or `service add backup1 Backup --passive --freshness 26h`")
    p.add_argument("host")
    p.add_argument("name", help="the service name")
    p.add_argument("plugin_argv", nargs="*", metavar="-- PLUGIN ARG",
                   help="after `--`: the plugin and its arguments, one per word, with $HOSTADDRESS$ etc.")
    p.add_argument("--on", default="server", choices=("server", "host"),
                   help="run on this server (default) or on the host over its SSH connection")
    p.add_argument("--interval", default="60s")
    p.add_argument("--retry-interval", default="30s", help="while a problem is soft")
    p.add_argument("--max-attempts", type=int, default=3, help="results in a row before a problem is hard")
    p.add_argument("--timeout", default="60s", help="the plugin is killed with its process group after this")
    p.add_argument("--passive", action="store_true", help="takes submitted results; runs nothing")
    p.add_argument("--freshness", help="passive: a result older than this makes the service stale, e.g. 26h")
    p.add_argument("--stale-state", default="UNKNOWN", help="passive: the state of a stale service")
    p.add_argument("--host-check", action="store_true", help="its result is the host's UP/DOWN (hosts without agent)")
    p.add_argument("--group", action="append", default=[],
                   help="a service group it belongs to (Livestatus servicegroups); may be given again")
    p.add_argument("--replace", action="store_true", help="replace a service of the same name")
    p.set_defaults(func=cmd_service_add)
    p = ssub.add_parser("list", help="list active and passive services")
    p.add_argument("host", nargs="?")
    p.set_defaults(func=cmd_service_list)
    p = ssub.add_parser("remove", help="remove an active or passive service")
    p.add_argument("host")
    p.add_argument("name")
    p.set_defaults(func=cmd_service_remove)
    p = ssub.add_parser("run", help="run an active service once and print its result (Nagios exit code)")
    p.add_argument("host")
    p.add_argument("name")
    p.set_defaults(func=cmd_service_run)

    p = sub.add_parser("submit", help="submit a passive result, e.g. `submit db1 Backup OK 'done in 5m|t=300s'`")
    p.add_argument("host")
    p.add_argument("service")
    p.add_argument("state", help="0-3 or OK, WARN, CRIT, UNKNOWN")
    p.add_argument("output", help="'text|perfdata', with long output on further lines")
    p.set_defaults(func=cmd_submit)
    p = sub.add_parser("check-now", help="ask the running daemon to check a host (its agent) or one service now")
    p.add_argument("host")
    p.add_argument("service", nargs="?", help="an active service, or an agent service (its host's agent is asked)")
    p.set_defaults(func=cmd_check_now)
