"""`host` and `discover`: hosts, their SSH keys, and their discovered services."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from watchkeeper.cli.common import Console, age, open_store, parse_options
from watchkeeper.collect.hosts import make_transport
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.engine.discovery import DiscoveryDiff, diff_services, discover_in_output
from watchkeeper.errors import CollectError, ConfigError
from watchkeeper.model.hosts import HostConfig, parse_uri
from watchkeeper.model.rules import Rule, rules_for_host
from watchkeeper.paths import Paths
from watchkeeper.store.audit_tables import cli_actor
from watchkeeper.store.database import Store


def cmd_host_add(args: argparse.Namespace) -> int:
    store = open_store(args)
    paths = Paths.resolve(args.home)
    host = HostConfig(args.name, args.uri, args.interval, parse_options(args.option))
    store.add_host(host)
    print(f"Added host {host.name} ({host.uri}, every {host.interval_s:g}s).")
    if host.uri == "none":
        print(f"It has no agent: give it services with `watchkeeper service add {host.name} NAME -- PLUGIN ARGS`.")
    elif host.uri == "piggyback":
        print("Its data comes from other hosts' output (a hypervisor's, a frontend's); its services are "
              "discovered when the daemon first has data for it.")
    elif args.discover:
        try:
            found, agent = asyncio.run(fetch_and_discover(store, paths, host.name))
        except CollectError as exc:
            print(f"Its services will be discovered when the daemon reaches it; for now: {exc}",
                  file=sys.stderr)
        else:
            if agent:
                print(f"It gets {agent}.")
            print(f"Accepted {found} discovered services.")
    return 0


def cmd_host_list(args: argparse.Namespace) -> int:
    store = open_store(args)
    console = Console()
    now = time.time()
    for row in store.hosts():
        console.print(f"{row.config.name:<24} {row.state:<8} {age(row.state_since, now):>5}  "
                      f"{row.config.uri}  every {row.config.interval_s:g}s"
                      + (f"  ({row.last_error})" if row.last_error else ""))
    return 0


def cmd_host_edit(args: argparse.Namespace) -> int:
    store = open_store(args)
    config = store.host(args.name).config
    options = dict(config.options)
    for key in args.unset:
        options.pop(key, None)
    options.update(parse_options(args.option))
    changed = HostConfig(config.name, args.uri or config.uri, args.interval or config.interval_s, options)
    if changed.uri != config.uri:
        parse_uri(changed.name, changed.uri)  # a typo in the address is refused, not stored
    store.update_host(changed)
    said = [f"{what} {before} -> {after}" for what, before, after in (
        ("address", config.uri, changed.uri), ("interval", f"{config.interval_s:g}s", f"{changed.interval_s:g}s"),
        ("options", config.options, changed.options)) if before != after]
    print(f"Host {config.name}: " + ("; ".join(said) if said else "nothing changed") + ".")
    return 0


def cmd_host_remove(args: argparse.Namespace) -> int:
    open_store(args).remove_host(args.name, keep_history=not args.purge)
    if args.purge:
        print(f"Removed host {args.name} with its services, state history and metrics.")
    else:
        print(f"Removed host {args.name} and its services; its state history and metrics are kept "
              "(shown again if it is added back; `--purge` deletes them).")
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


async def fetch_output(store: Store, paths: Paths, name: str) -> tuple[AgentOutput, str]:
    """The host's agent output, and which agent it got where the transport chooses one (SSH)."""
    transport = make_transport(store.host(name).config, paths, builtin_catalog().snmp_sections)
    try:
        output = await transport.fetch()
        return output, str(getattr(transport, "agent", ""))
    finally:
        await transport.close()


def host_rules(store: Store, name: str) -> list[Rule]:
    return rules_for_host(store.rules(), name, store.host(name).config.opts.labels)


async def fetch_and_discover(store: Store, paths: Paths, name: str) -> tuple[int, str]:
    output, agent = await fetch_output(store, paths, name)
    found = discover_in_output(output.data, name, rules=host_rules(store, name))
    store.accept_services(name, found)
    return len(found), agent


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
        if not args.dry_run and (args.ignore or args.unignore):
            store.host(name)
            store.ignore_services(name, args.ignore, cli_actor())
            store.unignore_services(name, args.unignore)
        try:
            output, _agent = asyncio.run(fetch_output(store, paths, name))
        except (CollectError, ConfigError) as exc:
            failures += 1
            print(("\n" if progress else "") + f"{name}: discovery failed: {exc}", file=sys.stderr)
            continue
        found = discover_in_output(output.data, name, rules=host_rules(store, name))
        diff = diff_services(store.service_specs(name), found, store.ignored_services(name))
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
          f"{diff.unchanged} unchanged" + (f", {len(diff.ignored)} ignored" if diff.ignored else ""))
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


def register(sub: Any) -> None:
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
    p = hsub.add_parser("edit", help="change a host's address, interval or options")
    p.add_argument("name")
    p.add_argument("--uri", help="a new address (as for `host add`)")
    p.add_argument("--interval", type=float, help="seconds between checks")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="set an option (repeatable)")
    p.add_argument("--unset", action="append", default=[], metavar="KEY", help="remove an option (repeatable)")
    p.set_defaults(func=cmd_host_edit)
    p = hsub.add_parser("remove", help="remove a host and its services; its history stays unless --purge")
    p.add_argument("name")
    p.add_argument("--purge", action="store_true", help="also delete its state history and metrics")
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
    p.add_argument("--ignore", action="append", default=[], metavar="SERVICE",
                   help="never offer this service again (and stop monitoring it); repeatable")
    p.add_argument("--unignore", action="append", default=[], metavar="SERVICE",
                   help="offer an ignored service again; repeatable")
    p.set_defaults(func=cmd_discover)
