"""The `watchkeeper` command line (alias `wk`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from watchkeeper import __version__
from watchkeeper.checkapi import State, render
from watchkeeper.cli import alerting, nagios_import, plugin_mode, services, web_access
from watchkeeper.collect.hosts import make_transport
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.cycle import run_host_cycle
from watchkeeper.engine.discovery import DiscoveryDiff, diff_services, discover_in_output
from watchkeeper.errors import CollectError, ConfigError, WatchkeeperError
from watchkeeper.model.cycles import Outcome
from watchkeeper.model.hosts import HostConfig, check_host_name, parse_uri
from watchkeeper.model.rules import rules_for_host
from watchkeeper.model.states import NAMES
from watchkeeper.notify.states import flap_explanation
from watchkeeper.paths import PRIVATE_UMASK, Paths
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

log = logging.getLogger("watchkeeper")

COLOURS = {-1: "\033[36m", 0: "\033[32m", 1: "\033[33m", 2: "\033[31m", 3: "\033[35m"}
RESET = "\033[0m"


class Console:
    """Output that uses colour only on a terminal (and never with NO_COLOR set)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.colour = self.stream.isatty() and not os.environ.get("NO_COLOR")

    def state(self, state: int, stale: bool = False) -> str:
        text = NAMES.get(state, "?") + ("*" if stale else "")
        padded = f"{text:<8}"
        return f"{COLOURS.get(state, '')}{padded}{RESET}" if self.colour else padded

    def print(self, text: str = "") -> None:
        print(text, file=self.stream)


def _age(since: float | None, now: float) -> str:
    return "-" if since is None else _short_span(now - since)


def _short_span(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def open_store(args: argparse.Namespace) -> Store:
    paths = Paths.resolve(args.home)
    if not paths.database.exists():
        raise ConfigError(f"no store at {paths.database}; run `watchkeeper init` first "
                          "(or point --home / WATCHKEEPER_HOME at an existing one)")
    for change in paths.secure():
        log.warning("private store: %s", change)
    return Store(paths.database)


# ---------------------------------------------------------------------- init and hosts
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
        found = asyncio.run(_fetch_and_discover(store, paths, name))
        print(f"Added this machine as host {name!r} with {found} services.")
    print(f"Store: {paths.database}")
    print("Next: `watchkeeper run` to start monitoring, `watchkeeper status` to look.")
    return 0


def ensure_client_key(paths: Paths) -> Path:
    """Watchkeeper's own SSH key: made once, readable only by its owner."""
    key = paths.client_key
    if not key.exists():
        import asyncssh

        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        private = asyncssh.generate_private_key("ssh-ed25519", comment=f"watchkeeper@{socket.gethostname()}")
        private.write_private_key(str(key))
        private.write_public_key(str(key) + ".pub")
        key.chmod(0o600)
    return key


def cmd_ssh_key(args: argparse.Namespace) -> int:
    key = ensure_client_key(Paths.resolve(args.home))
    sys.stdout.write(Path(str(key) + ".pub").read_text())
    return 0


def _parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"option {pair!r} is not KEY=VALUE")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


def cmd_host_add(args: argparse.Namespace) -> int:
    store = open_store(args)
    paths = Paths.resolve(args.home)
    host = HostConfig(args.name, args.uri, args.interval, _parse_options(args.option))
    store.add_host(host)
    print(f"Added host {host.name} ({host.uri}, every {host.interval_s:g}s).")
    if host.uri == "none":
        print(f"It has no agent: give it services with `watchkeeper service add {host.name} NAME -- PLUGIN ARGS`.")
    elif args.discover:
        try:
            found = asyncio.run(_fetch_and_discover(store, paths, host.name))
        except CollectError as exc:
            print(f"Its services will be discovered when the daemon reaches it; for now: {exc}",
                  file=sys.stderr)
        else:
            print(f"Accepted {found} discovered services.")
    return 0


def cmd_host_list(args: argparse.Namespace) -> int:
    store = open_store(args)
    console = Console()
    now = time.time()
    for row in store.hosts():
        console.print(f"{row.config.name:<24} {row.state:<8} {_age(row.state_since, now):>5}  "
                      f"{row.config.uri}  every {row.config.interval_s:g}s"
                      + (f"  ({row.last_error})" if row.last_error else ""))
    return 0


def cmd_host_remove(args: argparse.Namespace) -> int:
    open_store(args).remove_host(args.name)
    print(f"Removed host {args.name} with its services and history.")
    return 0


def cmd_host_trust(args: argparse.Namespace) -> int:
    from watchkeeper.collect.ssh import fetch_host_key, known_hosts_line

    store = open_store(args)
    paths = Paths.resolve(args.home)
    host = store.host(args.name).config
    endpoint = parse_uri(host.name, host.uri)
    if endpoint.scheme != "ssh":
        raise ConfigError(f"{host.name} is not reached over SSH ({host.uri}); there is no host key to trust")
    key = asyncio.run(fetch_host_key(endpoint.address, endpoint.port))
    print(f"{endpoint.address}:{endpoint.port} offers {key.get_algorithm()} key {key.get_fingerprint()}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError("compare the fingerprint above with the host's own "
                              "(`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` there), then re-run with --yes")
        if input("Is this the host's key? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Not trusted.")
            return 1
    line = known_hosts_line(endpoint.address, endpoint.port, key)
    paths.known_hosts.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pattern = line.split(" ", 1)[0]
    kept = [existing for existing in (paths.known_hosts.read_text().splitlines(keepends=True)
                                      if paths.known_hosts.exists() else [])
            if existing.split(" ", 1)[0] != pattern]
    paths.known_hosts.write_text("".join(kept) + line)
    print(f"Trusted; written to {paths.known_hosts}.")
    return 0


# ---------------------------------------------------------------------- discovery
async def _fetch(store: Store, paths: Paths, name: str) -> AgentOutput:
    transport = make_transport(store.host(name).config, paths)
    try:
        return await transport.fetch()
    finally:
        await transport.close()


async def _fetch_and_discover(store: Store, paths: Paths, name: str) -> int:
    output = await _fetch(store, paths, name)
    found = discover_in_output(output.data, name, rules=rules_for_host(store.rules(), name))
    store.accept_services(name, found)
    return len(found)


def cmd_discover(args: argparse.Namespace) -> int:
    store = open_store(args)
    paths = Paths.resolve(args.home)
    names = [row.config.name for row in store.hosts()] if args.all else args.hosts
    if not names:
        raise ConfigError("name the hosts to discover, or use --all")
    progress = sys.stderr.isatty() and len(names) > 1
    failures = 0
    for index, name in enumerate(names, 1):
        if progress:
            print(f"\r[{index}/{len(names)}] {name}\033[K", end="", file=sys.stderr, flush=True)
        try:
            output = asyncio.run(_fetch(store, paths, name))
        except (CollectError, ConfigError) as exc:
            failures += 1
            print(("\n" if progress else "") + f"{name}: discovery failed: {exc}", file=sys.stderr)
            continue
        found = discover_in_output(output.data, name, rules=rules_for_host(store.rules(), name))
        diff = diff_services(store.service_specs(name), found)
        _show_diff(name, diff, args)
        if not args.dry_run:
            add = diff.new + ([found for _, found in diff.changed] if args.accept_changed else [])
            remove = [spec.name for spec in diff.vanished] if args.remove_vanished else []
            store.accept_services(name, add, remove)
    if progress:
        print(file=sys.stderr)
    return 1 if failures else 0


def _show_diff(name: str, diff: DiscoveryDiff, args: argparse.Namespace) -> None:
    verb = "would be" if args.dry_run else "is"
    print(f"{name}: {len(diff.new)} new, {len(diff.vanished)} vanished, {len(diff.changed)} changed, "
          f"{diff.unchanged} unchanged")
    for spec in diff.new:
        print(f"  + {spec.name}")
    for spec in diff.vanished:
        kept = "removed" if args.remove_vanished else "kept (it stays monitored; --remove-vanished drops it)"
        print(f"  - {spec.name}: {kept if not args.dry_run else 'vanished'}")
    for before, found in diff.changed:
        was = {k: v for k, v in before.facts.items() if found.facts.get(k) != v}
        now = {k: v for k, v in found.facts.items() if before.facts.get(k) != v}
        accepted = "accepted" if args.accept_changed else "not accepted (--accept-changed)"
        print(f"  ~ {before.name}: was {was}, now {now}: {accepted}")
    if diff.new and not args.dry_run:
        print(f"  new services {verb} monitored from now on")


# ---------------------------------------------------------------------- checking
def _print_outcomes(console: Console, outcomes: Sequence[Outcome], verbose: bool) -> int:
    worst = State.OK
    width = max((len(o.name) for o in outcomes), default=10)
    for outcome in outcomes:
        console.print(f"{console.state(outcome.state, outcome.stale)} {outcome.name:<{width}}  {outcome.summary}")
        if verbose:
            for metric in outcome.metrics:
                console.print(f"{'':9}{'':<{width}}  {metric.name}={metric.value:g}{metric.unit}")
            if outcome.details:
                for line in outcome.details.splitlines():
                    console.print(f"{'':9}{'':<{width}}  {line}")
        if outcome.state >= 0:
            worst = State.worst(worst, State(outcome.state))
    return int(worst)


def cmd_check(args: argparse.Namespace) -> int:
    console = Console()
    now = time.time()
    if args.from_file:
        data = Path(args.from_file).read_bytes()
        specs = discover_in_output(data)
        result = run_host_cycle("from-file", AgentOutput(data), specs, [], {}, now)
        return _print_outcomes(console, result.cycle.outcomes, args.verbose)
    if not args.host:
        raise ConfigError("name a host, or give --from-file FILE")
    store = open_store(args)
    paths = Paths.resolve(args.home)
    host = store.host(args.host)
    try:
        fetched: AgentOutput | CollectError = asyncio.run(_fetch(store, paths, args.host))
    except CollectError as exc:
        fetched = exc
    specs = store.service_specs(args.host)
    if not specs and isinstance(fetched, AgentOutput):
        specs = discover_in_output(fetched.data, args.host, rules=rules_for_host(store.rules(), args.host))
        print(f"({args.host} has no accepted services; checking what discovery finds)", file=sys.stderr)
    # The daemon's counters are read, not written: a one-shot check must not skew its rates.
    stores = store.value_stores(args.host)
    result = run_host_cycle(args.host, fetched, specs, rules_for_host(store.rules(), args.host), stores, now,
                            host.last_ok)
    return _print_outcomes(console, result.cycle.outcomes, args.verbose)


# ---------------------------------------------------------------------- looking
def cmd_status(args: argparse.Namespace) -> int:
    store = open_store(args)
    console = Console()
    now = time.time()
    wanted = {s.upper() for s in args.state or []}
    hosts = {row.config.name: row for row in store.hosts()}
    if args.host and args.host not in hosts:
        raise ConfigError(f"there is no host {args.host!r}; `watchkeeper host list` shows the hosts")
    rows = [row for row in store.services(args.host)
            if not wanted or NAMES.get(row.state, "") in wanted]
    if args.json:
        json.dump([{"host": r.host, "service": r.name, "state": NAMES.get(r.state), "stale": r.stale,
                    "summary": r.summary, "last_check": r.last_check, "last_change": r.last_change}
                   for r in rows], sys.stdout, indent=1)
        print()
        return 0
    if not hosts:
        console.print("No hosts yet: `watchkeeper init` adds this machine, `watchkeeper host add` others.")
        return 0
    alerts = NotifyTables(store).load_alerts()
    acks = NotifyTables(store).acknowledgements()
    width = max((len(r.name) for r in rows), default=10)
    current = None
    for row in rows:
        if row.host != current:
            current = row.host
            host = hosts[row.host]
            console.print(f"{row.host}: {host.state} for {_age(host.state_since, now)}, last fetched "
                          f"{_age(host.last_fetch, now)} ago" + (f" ({host.last_error})" if host.last_error else ""))
        notes = ""
        tracked = alerts.get((row.host, row.name))
        if tracked is not None and tracked.alert.soft_problem:
            notes += f" [soft problem, attempt {tracked.alert.attempt}]"
        if tracked is not None and tracked.alert.flapping:
            notes += f" [{flap_explanation(tracked.alert)}]"
        if (row.host, row.name) in acks:
            notes += f" [acknowledged by {acks[(row.host, row.name)].author}]"
        console.print(f"  {console.state(row.state, row.stale)} {row.name:<{width}} "
                      f"{_age(row.last_change, now):>4} {_age(row.last_check, now):>4}  {row.summary}{notes}")
    counts: dict[str, int] = {}
    for row in rows:
        counts[NAMES.get(row.state, "?")] = counts.get(NAMES.get(row.state, "?"), 0) + 1
    console.print("\n" + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) +
                  "   (columns: state, time in state, time since last check; * = stale)")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    store = open_store(args)
    console = Console()
    store.host(args.host)
    rows = store.history(args.host, args.service or "", args.limit)
    if not rows:
        console.print(f"no state changes recorded for {args.host} {args.service or '(host)'}")
    for row in reversed(rows):
        console.print(f"{render.datetime(row.ts)}  {console.state(row.state, row.stale)} {row.summary}")
    return 0


def cmd_rule_add(args: argparse.Namespace) -> int:
    from watchkeeper.checkapi import build_params
    from watchkeeper.engine.catalog import plugins_by_name

    store = open_store(args)
    plugin = plugins_by_name().get(args.plugin)
    if plugin is None:
        raise ConfigError(f"there is no check plugin {args.plugin!r}; known: {', '.join(sorted(plugins_by_name()))}")
    params = _parse_options(args.params)
    build_params(plugin.default_params, params)  # refuse a rule the checks could not use
    rule_id = store.add_rule(args.plugin, params, args.host, args.item, args.comment)
    print(f"Added rule {rule_id}; the daemon applies it within seconds.")
    return 0


def cmd_rule_list(args: argparse.Namespace) -> int:
    for rule in open_store(args).rules():
        print(f"{rule.id:>4} {rule.plugin:<20} host={rule.host_glob} item={rule.item_glob} "
              f"{json.dumps(rule.params)} {rule.comment}")
    return 0


def cmd_rule_remove(args: argparse.Namespace) -> int:
    open_store(args).remove_rule(args.id)
    return 0


# ---------------------------------------------------------------------- the daemon
def cmd_run(args: argparse.Namespace) -> int:
    from watchkeeper.daemon import DaemonOptions, run_daemon

    logging.basicConfig(level=getattr(logging, args.log_level.upper()), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    paths = Paths.resolve(args.home)
    store = open_store(args)
    listen = None if args.listen == "off" else _listen_address(args.listen, 8080)
    web_access.ensure_initial_user(store, paths.home)
    hosts = store.hosts()
    log.info("watchkeeper %s: monitoring %d hosts; store %s", __version__, len(hosts), paths.database)
    log.info("look at the state with: %s status%s", sys.argv[0] if "/" in sys.argv[0] else "watchkeeper",
             f" --home {args.home}" if args.home else "")
    options = DaemonOptions(concurrency=args.concurrency, web=listen,
                            livestatus_tcp=_listen_address(args.livestatus_tcp, 6557),
                            initial_password_file=paths.home / web_access.INITIAL_PASSWORD_FILE)
    scheduler = asyncio.run(run_daemon(store, paths, options))
    log.info("stopped cleanly after %d host cycles", scheduler.stats.cycles)
    store.close()
    return 0


def _listen_address(text: str | None, default_port: int) -> tuple[str, int] | None:
    """`PORT`, `ADDRESS:PORT` or `[IPv6]:PORT`; loopback unless an address is given."""
    if text is None:
        return None
    address, _, port = text.rpartition(":")
    address = address.strip("[]") or "127.0.0.1"
    try:
        number = int(port) if port else default_port
    except ValueError:
        raise ConfigError(f"{text!r} is not [ADDRESS:]PORT") from None
    if not 0 <= number <= 65535:
        raise ConfigError(f"port {number} is outside 0..65535")
    return address, number


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="watchkeeper", description="Infrastructure monitoring.")
    parser.add_argument("--home", help="state directory (default: $WATCHKEEPER_HOME or ~/.local/state/watchkeeper)")
    parser.add_argument("--version", action="version", version=f"watchkeeper {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the store and add this machine")
    p.add_argument("--no-local", dest="local", action="store_false", help="do not add this machine")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("ssh-key", help="print Watchkeeper's SSH public key (for authorized_keys)")
    p.set_defaults(func=cmd_ssh_key)

    host = sub.add_parser("host", help="add, list, remove hosts; trust SSH host keys")
    hsub = host.add_subparsers(dest="host_command", required=True)
    p = hsub.add_parser("add", help="add a host")
    p.add_argument("name")
    p.add_argument("uri", help="local | ssh://user@host[:port] | tcp://host[:port] | tls://host[:port] | file:///path")
    p.add_argument("--interval", type=float, default=60.0, help="seconds between checks (default 60)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="timeout_s, max_output_bytes, agent_command (a JSON list), ssh_key, ca_file")
    p.add_argument("--no-discover", dest="discover", action="store_false",
                   help="do not discover and accept its services now")
    p.set_defaults(func=cmd_host_add)
    p = hsub.add_parser("list", help="list hosts")
    p.set_defaults(func=cmd_host_list)
    p = hsub.add_parser("remove", help="remove a host with its services and history")
    p.add_argument("name")
    p.set_defaults(func=cmd_host_remove)
    p = hsub.add_parser("trust", help="show an SSH host's key and trust it")
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="trust without asking (after comparing the fingerprint)")
    p.set_defaults(func=cmd_host_trust)

    p = sub.add_parser("discover", help="show new and vanished services and accept them")
    p.add_argument("hosts", nargs="*")
    p.add_argument("--all", action="store_true", help="every host")
    p.add_argument("--dry-run", action="store_true", help="show, change nothing")
    p.add_argument("--remove-vanished", action="store_true", help="stop monitoring services that vanished")
    p.add_argument("--accept-changed", action="store_true",
                   help="accept changed discovery facts (a replaced disk, new mount options)")
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser("run", help="run the monitoring daemon (logs to stderr; stops cleanly on SIGTERM)")
    p.add_argument("--concurrency", type=int, default=64, help="fetches at the same time (default 64)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--livestatus-tcp", metavar="[ADDRESS:]PORT",
                   help="also answer Livestatus on TCP (address default 127.0.0.1; the unix socket is always on)")
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="[ADDRESS:]PORT",
                   help="web UI and API (default 127.0.0.1:8080; 'off' for none)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="hosts and services with state, age and summary")
    p.add_argument("host", nargs="?")
    p.add_argument("--state", action="append", help="only this state (repeatable): OK WARN CRIT UNKNOWN PENDING")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("check", help="check a host once and print the results (Nagios exit code)")
    p.add_argument("host", nargs="?")
    p.add_argument("--from-file", metavar="FILE", help="discover and check a saved agent output; stores nothing")
    p.add_argument("-v", "--verbose", action="store_true", help="show metrics and details")
    p.set_defaults(func=cmd_check)

    plugin_mode.add_parser(sub)
    alerting.add_parsers(sub)
    services.add_parsers(sub)
    web_access.add_parsers(sub)
    nagios_import.add_parsers(sub)

    p = sub.add_parser("history", help="state changes of a service (or of the host)")
    p.add_argument("host")
    p.add_argument("service", nargs="?")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_history)

    rule = sub.add_parser("rule", help="check parameters for matching hosts and items")
    rsub = rule.add_subparsers(dest="rule_command", required=True)
    p = rsub.add_parser("add", help="add a rule, e.g. `rule add df used_percent=[85,95] --item '/srv*'`")
    p.add_argument("plugin")
    p.add_argument("params", nargs="+", metavar="KEY=VALUE", help="values in JSON: 5, [80,90], \"10:\"")
    p.add_argument("--host", default="*", help="host name glob (default *)")
    p.add_argument("--item", default="*", help="item glob (default *)")
    p.add_argument("--comment", default="")
    p.set_defaults(func=cmd_rule_add)
    p = rsub.add_parser("list", help="list rules")
    p.set_defaults(func=cmd_rule_list)
    p = rsub.add_parser("remove", help="remove a rule")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_rule_remove)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # Everything after `--` is a plugin's own argv, kept word for word (argparse would mix
    # it with our options when they come after the service name).
    tail: list[str] | None = None
    if "--" in words:
        at = words.index("--")
        words, tail = words[:at], words[at + 1:]
    args = build_parser().parse_args(words)
    if tail is not None:
        if not hasattr(args, "plugin_argv"):
            print(f"watchkeeper: `--` is only for plugin commands; {args.command} takes none", file=sys.stderr)
            return 2
        args.plugin_argv = tail
    umask = os.umask(PRIVATE_UMASK)  # whatever Watchkeeper writes (store, keys, plugin state) is its user's alone
    try:
        return int(args.func(args))
    except WatchkeeperError as exc:
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return 3 if args.command in ("check", "plugin") else 2
    except ValueError as exc:  # parameter and level errors carry their own explanation
        print(f"watchkeeper: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        os.umask(umask)  # main() is also called in-process (tests, plugin mode): leave the caller's umask


if __name__ == "__main__":
    sys.exit(main())
