"""`status`, `check` and `history`: what the store says, or a host checked once now."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from watchkeeper.checkapi import State, render
from watchkeeper.cli.commands.hosts import fetch_output
from watchkeeper.cli.common import Console, age, open_store
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.cycle import run_host_cycle
from watchkeeper.engine.discovery import discover_in_output
from watchkeeper.errors import CollectError, ConfigError
from watchkeeper.model.cycles import Outcome
from watchkeeper.model.rules import rules_for_host
from watchkeeper.model.states import NAMES
from watchkeeper.notify.states import flap_explanation
from watchkeeper.paths import Paths
from watchkeeper.store.notify_tables import NotifyTables


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
        fetched: AgentOutput | CollectError = asyncio.run(fetch_output(store, paths, args.host))[0]
    except CollectError as exc:
        fetched = exc
    specs = store.service_specs(args.host)
    rules = rules_for_host(store.rules(), args.host, host.config.opts.labels)
    if not specs and isinstance(fetched, AgentOutput):
        specs = discover_in_output(fetched.data, args.host, rules=rules)
        print(f"({args.host} has no accepted services; checking what discovery finds)", file=sys.stderr)
    # The daemon's counters are read, not written: a one-shot check must not skew its rates.
    stores = store.value_stores(args.host)
    result = run_host_cycle(args.host, fetched, specs, rules, stores, now, host.last_ok)
    return _print_outcomes(console, result.cycle.outcomes, args.verbose)


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
            console.print(f"{row.host}: {host.state} for {age(host.state_since, now)}, last fetched "
                          f"{age(host.last_fetch, now)} ago" + (f" ({host.last_error})" if host.last_error else ""))
        notes = ""
        tracked = alerts.get((row.host, row.name))
        if tracked is not None and tracked.alert.soft_problem:
            notes += f" [soft problem, attempt {tracked.alert.attempt}]"
        if tracked is not None and tracked.alert.flapping:
            notes += f" [{flap_explanation(tracked.alert)}]"
        if (row.host, row.name) in acks:
            notes += f" [acknowledged by {acks[(row.host, row.name)].author}]"
        console.print(f"  {console.state(row.state, row.stale)} {row.name:<{width}} "
                      f"{age(row.last_change, now):>4} {age(row.last_check, now):>4}  {row.summary}{notes}")
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


def register(sub: Any) -> None:
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

    p = sub.add_parser("history", help="state changes of a service (or of the host)")
    p.add_argument("host")
    p.add_argument("service", nargs="?")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_history)
