"""Two kinds of service over the process table:

* `Processes`: how many there are, and zombies (a handful come and go; many mean a parent
  that does not reap its children).
* `Process NAME`, one per rule that names it (`watchkeeper rule add process --item sshd
  pattern=/usr/sbin/sshd min_count=1`): how many processes match a regular expression on the
  command line (and a user, if given), against lower and upper limits. A daemon that is not
  running is CRIT by default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Metric,
    Result,
    Service,
    State,
    ValueStore,
    check_levels,
    render,
)
from watchkeeper.plugins.processes.ps import ProcessTable

SHOWN = 5


@dataclass(frozen=True, slots=True)
class ProcessesParams:
    zombies: Levels | None = Fixed(warn=10.0, crit=50.0)
    count: Levels | None = None


def discover_processes(section: ProcessTable) -> DiscoveryResult:
    yield Service()


def check_processes(item: str, params: ProcessesParams, section: ProcessTable, store: ValueStore,
                    now: float) -> CheckResult:
    yield from check_levels(float(len(section)), levels_upper=params.count, metric_name="processes_total",
                            label="processes", render_func=render.count)
    zombies = section.zombies()
    yield from check_levels(float(len(zombies)), levels_upper=params.zombies, metric_name="processes_zombies",
                            label="zombies", render_func=render.count)
    if zombies:
        yield Result(State.OK, "", details="Zombies: " + ", ".join(f"{p.pid} {p.command}" for p in zombies[:20]))


@dataclass(frozen=True, slots=True)
class ProcessParams:
    pattern: str = ""
    """A regular expression searched in the command line; empty: the service's name."""
    user: str = ""
    min_count: int = 1
    """Fewer matching processes is CRIT."""
    max_count: int = 0
    """More is WARN (0: no upper limit)."""


def discover_process(section: ProcessTable) -> DiscoveryResult:
    return iter(())  # the services are the items that rules name


def check_process(item: str, params: ProcessParams, section: ProcessTable, store: ValueStore,
                  now: float) -> CheckResult:
    try:
        pattern = re.compile(params.pattern or re.escape(item))
    except re.error as exc:
        yield Result(State.UNKNOWN, f"the rule's pattern {params.pattern!r} is not a regular expression: {exc}")
        return
    found = [p for p in section.processes
             if pattern.search(p.command) and (not params.user or p.user == params.user)]
    who = f" of user {params.user}" if params.user else ""
    text = f"{len(found)} processes{who} match {pattern.pattern!r}"
    if len(found) < params.min_count:
        yield Result(State.CRIT, f"{text} (at least {params.min_count} expected)")
    elif params.max_count and len(found) > params.max_count:
        yield Result(State.WARN, f"{text} (at most {params.max_count} expected)")
    else:
        yield Result(State.OK, text)
    if found:
        rss = sum(p.rss_kib for p in found) * 1024
        yield Result(State.OK, "", details="PIDs: " + ", ".join(str(p.pid) for p in found[:50])
                     + f"; memory (RSS) {render.bytes_(rss)}")
        yield Metric("process_rss_bytes", rss)
    yield Metric("process_count", len(found))


processes = CheckPlugin(
    name="processes",
    section="processes",
    title="Processes",
    discover=discover_processes,
    check=check_processes,
    default_params=ProcessesParams(),
)

process = CheckPlugin(
    name="process",
    section="processes",
    title="Process %s",
    discover=discover_process,
    check=check_process,
    default_params=ProcessParams(),
    items_from_rules=True,
)
