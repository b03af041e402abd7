"""`watchkeeper plugin NAME ...`: one of our checks as a classic Nagios plugin.

One status line with perfdata, the details as long output, exit code 0-3, so Nagios and
Icinga users can adopt a check before they adopt the daemon. The data comes from the same
agent collector the daemon uses; the value store (for rates and ETAs) is a small JSON file
per plugin and target, kept between runs.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import Metric, build_params
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.catalog import AnyPlugin, builtin_catalog
from watchkeeper.engine.checking import collapse, parse_host
from watchkeeper.model.cycles import Outcome
from watchkeeper.paths import Paths
from watchkeeper.plugins.backups.checks import bacula_client, bacula_job, bacula_pool, bacula_storage
from watchkeeper.plugins.lizardfs.checks import (
    lizardfs_chunkservers,
    lizardfs_files,
    lizardfs_replication,
    lizardfs_space,
)
from watchkeeper.plugins.moosefs.chunkservers import moosefs_chunkservers
from watchkeeper.plugins.moosefs.files import moosefs_files
from watchkeeper.plugins.moosefs.replication import moosefs_replication
from watchkeeper.plugins.moosefs.space import moosefs_space

STATE_WORDS = {0: "OK", 1: "WARN", 2: "CRIT", 3: "UNKNOWN"}


@dataclass(frozen=True, slots=True)
class PluginMode:
    plugin: AnyPlugin
    collector: Callable[[list[str]], None]
    per_item: bool = False
    """Check every discovered item (and every item seen before) and report the worst."""
    config: str = "moosefs"
    """The agent configuration entry the collector reads."""


MODES = {
    "moosefs-replicas": PluginMode(moosefs_replication, agent.storage_moosefs),
    "moosefs-chunkservers": PluginMode(moosefs_chunkservers, agent.storage_moosefs, per_item=True),
    "moosefs-space": PluginMode(moosefs_space, agent.storage_moosefs),
    "moosefs-files": PluginMode(moosefs_files, agent.storage_moosefs_files, per_item=True),
    "lizardfs-replicas": PluginMode(lizardfs_replication, agent.storage_lizardfs, config="lizardfs"),
    "lizardfs-chunkservers": PluginMode(lizardfs_chunkservers, agent.storage_lizardfs, per_item=True,
                                        config="lizardfs"),
    "lizardfs-space": PluginMode(lizardfs_space, agent.storage_lizardfs, config="lizardfs"),
    "lizardfs-files": PluginMode(lizardfs_files, agent.storage_lizardfs_files, per_item=True, config="lizardfs"),
    "bacula-jobs": PluginMode(bacula_job, agent.backup_bacula, per_item=True, config="bacula"),
    "bacula-pools": PluginMode(bacula_pool, agent.backup_bacula, per_item=True, config="bacula"),
    "bacula-clients": PluginMode(bacula_client, agent.backup_bacula, per_item=True, config="bacula"),
    "bacula-storages": PluginMode(bacula_storage, agent.backup_bacula, per_item=True, config="bacula"),
}


def register(sub: Any) -> None:
    p = sub.add_parser("plugin", help="run one check as a Nagios plugin (one line, perfdata, exit code)",
                       description="Examples: watchkeeper plugin moosefs-replicas --master mfsmaster:9421; "
                       "watchkeeper plugin moosefs-files --path /mnt/mfs/images; "
                       "watchkeeper plugin bacula-jobs --item BackupClient1")
    p.add_argument("name", choices=sorted(MODES))
    p.add_argument("--master", default="mfsmaster:9421",
                   help="MooseFS or LizardFS master HOST:PORT (default mfsmaster:9421)")
    p.add_argument("--goal", help="moosefs-replicas, lizardfs-replicas: judge only this goal (a number or a name)")
    p.add_argument("--path", action="append", default=[], help="*-files: a path to check (repeatable)")
    p.add_argument("--prefix", default="", help="command prefix for the MooseFS or LizardFS tools, e.g. "
                   "'nsenter --net=/run/netns/storage --' (split like a shell would, but never run by one)")
    p.add_argument("--max-files", type=int, default=10000, help="*-files: files per run (default 10000)")
    p.add_argument("--max-seconds", type=float, default=20.0, help="*-files: time per run (default 20)")
    p.add_argument("--bconsole-config", default="/etc/bacula/bconsole.conf",
                   help="bacula-*: bconsole's configuration (default /etc/bacula/bconsole.conf)")
    p.add_argument("--bconsole", default="bconsole", help="bacula-*: the bconsole program (default bconsole)")
    p.add_argument("--item", action="append", default=[],
                   help="bacula-*: check only this job, pool, client or storage (repeatable; default: all)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per tool call (default 10; bconsole 30)")
    p.add_argument("--state-file", help="where rates and ETAs are remembered (default: under the state directory)")
    p.set_defaults(func=cmd_plugin)


def cmd_plugin(args: argparse.Namespace) -> int:
    mode = MODES[args.name]
    settings = {
        "master": args.master, "command_prefix": shlex.split(args.prefix), "paths": args.path,
        "max_files": args.max_files, "max_seconds": args.max_seconds, "timeout_s": args.timeout,
    }
    if args.name.endswith("-files") and not args.path:
        print(f"UNKNOWN - {args.name} needs at least one --path")
        return 3
    if mode.config == "bacula":
        settings = {"config": args.bconsole_config, "bconsole": args.bconsole, "interval_s": 0,
                    "timeout_s": max(args.timeout, 30.0), "command_prefix": shlex.split(args.prefix)}
    lines: list[str] = []
    with _agent_config({mode.config: settings}):
        mode.collector(lines)
    parsed = parse_host(builtin_catalog(), split_sections(("\n".join(lines) + "\n").encode()))
    section = parsed.sections.get(mode.plugin.section)
    if section is None:
        reason = parsed.problems.get(mode.plugin.section, f"no data from the {args.name} collector")
        print(f"UNKNOWN - {reason}")
        return 3
    goal = int(args.goal) if args.goal is not None and args.goal.isascii() and args.goal.isdigit() else args.goal
    overrides = {"goal": goal} if goal is not None else {}
    params = build_params(mode.plugin.default_params, overrides)
    state_path = Path(args.state_file) if args.state_file else _state_path(args)
    stores = _load(state_path)
    if mode.per_item:
        outcome = _check_items(mode.plugin, section, params, stores, args.item)
    else:
        store = stores.setdefault("", {})
        outcome = collapse(mode.plugin.service_name(""), mode.plugin.check("", params, section, store, _now()))
    _save(state_path, stores)
    print(render_plugin_output(outcome))
    return outcome.state if outcome.state in STATE_WORDS else 3


def _check_items(plugin: AnyPlugin, section: object, params: object, stores: dict[str, Any],
                 only: list[str] | None = None) -> Outcome:
    known = stores.setdefault("known items", {})
    items = list(only) if only else [service.item for service in plugin.discover(section)]
    for item in items:
        known[item] = True
    outcomes = []
    for item in sorted(known):  # an item seen before and gone now is judged too: CRIT, not forgotten
        store = stores.setdefault(f"item {item}", {})
        outcomes.append(collapse(plugin.service_name(item), plugin.check(item, params, section, store, _now())))
    worst = max((o.state for o in outcomes), default=3)
    problems = [o for o in outcomes if o.state != 0]
    if not outcomes:
        summary = "nothing found to check"
    elif not problems:
        summary = f"all {len(outcomes)} OK"
    else:
        summary = f"{len(problems)} of {len(outcomes)} not OK: " + "; ".join(
            f"{o.name}: {o.summary}" for o in problems[:3])
        if len(problems) > 3:
            summary += f"; and {len(problems) - 3} more"
    details = "\n".join(f"{STATE_WORDS.get(o.state, '?')} {o.name}: {o.summary}" for o in outcomes)
    metrics = [Metric(f"{o.name.rsplit(' ', 1)[-1]} {m.name}", m.value, m.levels, m.boundaries)
               for o in outcomes for m in o.metrics]
    return Outcome(plugin.service_name("*"), worst, summary, details, metrics)


def render_plugin_output(outcome: Outcome) -> str:
    """`STATE - summary | perfdata` then the details, as Nagios reads plugin output."""
    perfdata = " ".join(_perfdata(metric) for metric in outcome.metrics)
    words = STATE_WORDS.get(outcome.state, "UNKNOWN")
    line = f"{words} - {outcome.summary}".replace("|", "/")
    text = line + (f" | {perfdata}" if perfdata else "")
    if outcome.details:
        text += "\n" + outcome.details.replace("|", "/")
    return text


def _perfdata(metric: Metric) -> str:
    unit = {"B": "B", "s": "s", "%": "%"}.get(metric.unit, "")
    warn, crit = (_num(metric.levels[0]), _num(metric.levels[1])) if metric.levels else ("", "")
    low, high = metric.boundaries or (None, None)
    label = metric.name.replace("'", "").replace("=", "_")
    fields = [f"{_num(metric.value)}{unit}", warn, crit, _num(low), _num(high)]
    while fields and fields[-1] == "":
        fields.pop()
    return f"'{label}'=" + ";".join(fields)


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _now() -> float:
    return time.time()


@contextlib.contextmanager
def _agent_config(config: dict[str, object]) -> Iterator[None]:
    saved = dict(agent.CONFIG)
    agent.CONFIG.clear()
    agent.CONFIG.update(config)
    try:
        yield
    finally:
        agent.CONFIG.clear()
        agent.CONFIG.update(saved)


def _state_path(args: argparse.Namespace) -> Path:
    target = json.dumps([args.name, args.master, args.goal, sorted(args.path), args.bconsole_config, sorted(args.item)])
    digest = hashlib.sha256(target.encode()).hexdigest()[:16]
    return Paths.resolve(getattr(args, "home", None)).home / "plugin-state" / f"{args.name}-{digest}.json"


def _load(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # first run, or a file cut short: rates restart, the verdict does not depend on it
    return loaded if isinstance(loaded, dict) else {}


def _save(path: Path, stores: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(stores))
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only state directory costs the ETA, never the check
