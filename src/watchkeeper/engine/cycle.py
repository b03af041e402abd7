"""One host, one cycle: agent output (or the reason there is none) in, a `HostCycle` out.

A host whose output could not be fetched is DOWN and every one of its services becomes a
stale UNKNOWN that says for how long there has been no data: never silently OK.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from watchkeeper.checkapi import State, render
from watchkeeper.collect.sections import SplitOutput, split_sections
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.catalog import Catalog, builtin_catalog
from watchkeeper.engine.checking import check_service, discover_services, parse_host
from watchkeeper.engine.model import AGENT_SERVICE, DISCOVERY_SERVICE, HostCycle, Outcome, ServiceSpec
from watchkeeper.engine.rules import Rule, params_from_rules
from watchkeeper.errors import CollectError


@dataclass(slots=True)
class CycleResult:
    cycle: HostCycle
    discovered: list[ServiceSpec] | None
    """What discovery finds in this output; None when there was no output."""


def run_host_cycle(
    host: str,
    fetched: AgentOutput | CollectError,
    specs: Sequence[ServiceSpec],
    rules: Sequence[Rule],
    value_stores: dict[str, dict[str, Any]],
    now: float,
    last_ok: float | None = None,
    catalog: Catalog | None = None,
    acknowledged: dict[str, float] | None = None,
) -> CycleResult:
    """`acknowledged`: service name -> when it was acknowledged, for checks that clear what they
    keep on an acknowledgement (their parameters have an `acknowledged_at`)."""
    if isinstance(fetched, CollectError):
        return CycleResult(_stale_cycle(host, fetched, specs, now, last_ok), None)
    catalog = builtin_catalog() if catalog is None else catalog
    by_name = {plugin.name: plugin for plugin in catalog.plugins}
    split = split_sections(fetched.data)
    parsed = parse_host(catalog, split, host)
    hint = ""
    if fetched.truncated:
        hint = f" (the output was cut at the {render.bytes_(fetched.limit)} limit)"

    outcomes: list[Outcome] = [_agent_outcome(fetched, split, catalog.raw_names, parsed.problems,
                                                 parsed.unread)]
    used_stores: dict[str, dict[str, Any]] = {}
    for spec in specs:
        plugin = by_name.get(spec.plugin)
        if plugin is None:
            outcomes.append(Outcome(spec.name, State.UNKNOWN, f"check plugin {spec.plugin!r} does not exist "
                                    "(any more); run service discovery for this host again"))
            continue
        store = value_stores.setdefault(spec.name, {})
        params = params_from_rules(rules, spec.plugin, spec.item)
        if acknowledged and spec.name in acknowledged and hasattr(plugin.default_params, "acknowledged_at"):
            params["acknowledged_at"] = acknowledged[spec.name]
        outcomes.append(check_service(plugin, spec, parsed, params, store, now, hint))
        if store:
            used_stores[spec.name] = store
    discovered = discover_services(catalog.plugins, parsed, host, rules)
    outcomes.append(_discovery_outcome(host, specs, discovered))
    return CycleResult(HostCycle(host, now, True, "", outcomes, used_stores), discovered)


def _agent_outcome(fetched: AgentOutput, split: SplitOutput, known: frozenset[str],
                   problems: dict[str, str], unread: dict[str, str]) -> Outcome:
    names = list(split.sections)
    unknown = sorted(name for name in names if name not in known)
    summary = (f"fetched {render.bytes_(len(fetched.data))} in {fetched.seconds:.2f} s, "
               f"{len(names)} sections")
    details = []
    if unknown:
        summary += f", {len(unknown)} not interpreted: {_listing(unknown)}"
        details.append("Sections without a check plugin (their data is not judged): " + ", ".join(unknown))
    if split.stray_lines:
        details.append(f"{split.stray_lines} lines outside any section were dropped")
    details.extend(split.problems)
    if fetched.truncated:
        return Outcome(AGENT_SERVICE, State.UNKNOWN,
                       f"agent output was cut at the {render.bytes_(fetched.limit)} limit: sections after "
                       "the cut are missing; raise max_output_bytes for this host or find what the agent "
                       f"prints so much of ({summary})", "\n".join(details))
    if not names:
        return Outcome(AGENT_SERVICE, State.CRIT, "the agent output holds no sections: is this a "
                       "Watchkeeper or Checkmk agent?", "\n".join(details))
    if problems or unread or split.problems:
        named = sorted(problems.values()) + sorted(unread.values())
        text = "; ".join(named + split.problems[:1])
        return Outcome(AGENT_SERVICE, State.WARN, f"{text} ({summary})", "\n".join(named + details))
    return Outcome(AGENT_SERVICE, State.OK, summary, "\n".join(details))


def _discovery_outcome(host: str, specs: Sequence[ServiceSpec], discovered: Sequence[ServiceSpec]) -> Outcome:
    monitored = {spec.name for spec in specs}
    found = {spec.name for spec in discovered}
    new, vanished = sorted(found - monitored), sorted(monitored - found)
    parts = []
    if new:
        parts.append(f"{len(new)} new service{'s' if len(new) > 1 else ''} not monitored: {_listing(new)}")
    if vanished:
        parts.append(f"{len(vanished)} vanished: {_listing(vanished)}")
    if not parts:
        return Outcome(DISCOVERY_SERVICE, State.OK, f"all {len(monitored)} discovered services are monitored")
    return Outcome(DISCOVERY_SERVICE, State.WARN, "; ".join(parts) + f"; run `watchkeeper discover {host}`")


def _listing(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def failed_cycle(host: str, reason: str, specs: Sequence[ServiceSpec], now: float) -> HostCycle:
    """A cycle that could not be completed (our bug, a store that cannot be read): every service
    becomes a stale UNKNOWN that says why, so that no earlier state is left standing as if current."""
    stale = f"stale: the check cycle failed ({reason})"
    outcomes = [Outcome(AGENT_SERVICE, State.UNKNOWN, f"the check cycle failed: {reason}")]
    outcomes.extend(Outcome(spec.name, State.UNKNOWN, stale, stale=True) for spec in specs)
    outcomes.append(Outcome(DISCOVERY_SERVICE, State.UNKNOWN, stale, stale=True))
    return HostCycle(host, now, True, reason, outcomes)


def _stale_cycle(host: str, error: CollectError, specs: Sequence[ServiceSpec], now: float,
                 last_ok: float | None) -> HostCycle:
    reason = str(error)
    age = f"for {render.timespan(now - last_ok)}" if last_ok else "yet"
    outcomes = [Outcome(AGENT_SERVICE, State.CRIT, reason)]
    stale = f"stale: no fresh data {age} because the host is DOWN"
    outcomes.extend(Outcome(spec.name, State.UNKNOWN, stale, stale=True) for spec in specs)
    outcomes.append(Outcome(DISCOVERY_SERVICE, State.UNKNOWN, stale, stale=True))
    return HostCycle(host, now, False, reason, outcomes)
