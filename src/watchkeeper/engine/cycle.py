"""One host, one cycle: agent output (or the reason there is none) in, a `HostCycle` out.

A host whose output could not be fetched is DOWN and every one of its services becomes a
stale UNKNOWN that says for how long there has been no data: never silently OK.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watchkeeper.checkapi import State, build_params, render
from watchkeeper.collect.sections import SOURCES_SECTION, SplitOutput, split_sections
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.catalog import Catalog, builtin_catalog
from watchkeeper.engine.checking import ParsedHost, check_service, discover_services, parse_host
from watchkeeper.errors import CollectError
from watchkeeper.model.baselines import Baseline
from watchkeeper.model.cycles import AGENT_SERVICE, DISCOVERY_SERVICE, HostCycle, Outcome, ServiceSpec
from watchkeeper.model.hosts import HOST_NAME
from watchkeeper.model.rules import Rule, params_from_rules

MAX_PIGGYBACK_HOSTS = 100_000
"""Hosts one output may speak of; more is a damaged or hostile output (the rest is dropped, and said)."""
DISCOVERY_INTERVAL_S = 600.0
"""Discovery runs again on output with the same sections at most this often (Checkmk: 2 hours)."""


@dataclass(frozen=True, slots=True)
class Discovery:
    """What discovery found, on which sections, when: reused until a section appears or goes,
    or `DISCOVERY_INTERVAL_S` passes. About a tenth of a cycle saved on every other cycle."""

    sections: frozenset[str]
    found: list[ServiceSpec]
    at: float

    def still_good(self, sections: frozenset[str], now: float) -> bool:
        return sections == self.sections and 0 <= now - self.at < DISCOVERY_INTERVAL_S


@dataclass(slots=True)
class CycleResult:
    cycle: HostCycle
    discovery: Discovery | None
    """What discovery finds in this output (or found lately); None when there was no output."""
    parsed: ParsedHost | None = None
    """This output's parsed sections: hand them to the next cycle (`previous`)."""
    piggyback: dict[str, str] | None = None
    """What this output says about other hosts: per host name, agent text (None: no output)."""

    @property
    def discovered(self) -> list[ServiceSpec] | None:
        return None if self.discovery is None else self.discovery.found


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
    discovery: Discovery | None = None,
    previous: ParsedHost | None = None,
    params_cache: dict[str, Any] | None = None,
    baselines: Mapping[str, Mapping[str, Baseline]] | None = None,
    ignored: Collection[str] = (),
) -> CycleResult:
    """`acknowledged`: service name -> when it was acknowledged, for checks that clear what they
    keep on an acknowledgement (`CheckPlugin.reads_acknowledgements`). `discovery`: what
    discovery found in an earlier cycle of this host, reused while it is still good; `previous`:
    the last cycle's parsed sections, whose unchanged ones are neither split nor parsed again;
    `params_cache`: each service's parameters, built once from rules and facts (the caller
    empties it when rules or services change; an acknowledged service's are built each time);
    `baselines`: learned baselines by service and metric, judged beside the checks; `ignored`:
    services discovery finds and is told not to offer."""
    if isinstance(fetched, CollectError):
        return CycleResult(_stale_cycle(host, fetched, specs, now, last_ok), discovery, previous)
    catalog = builtin_catalog() if catalog is None else catalog
    by_name = catalog.by_name
    split = split_sections(fetched.data, known=previous.fingerprints if previous is not None else None)
    parsed = parse_host(catalog, split, host, previous)
    hint = ""
    if fetched.truncated:
        hint = f" (the output was cut at the {render.bytes_(fetched.limit)} limit)"
    piggyback, piggyback_problems = _piggyback(catalog, split, parsed, host)

    outcomes: list[Outcome] = [_agent_outcome(fetched, split, catalog.raw_names, parsed.problems,
                                                 parsed.unread, piggyback, piggyback_problems)]
    used_stores: dict[str, dict[str, Any]] = {}
    for spec in specs:
        plugin = by_name.get(spec.plugin)
        if plugin is None:
            outcomes.append(Outcome(spec.name, State.UNKNOWN, f"check plugin {spec.plugin!r} does not exist "
                                    "(any more); run service discovery for this host again"))
            continue
        store = value_stores.setdefault(spec.name, {})
        built = None
        rule_params: dict[str, Any] = {}
        acked_at = acknowledged.get(spec.name) if acknowledged else None
        if acked_at is not None and plugin.reads_acknowledgements:
            rule_params = {**params_from_rules(rules, spec.plugin, spec.item), "acknowledged_at": acked_at}
        elif params_cache is None or (built := params_cache.get(spec.name)) is None:
            rule_params = params_from_rules(rules, spec.plugin, spec.item)
            if params_cache is not None:
                with contextlib.suppress(Exception):  # a bad rule: check_service says so, every cycle
                    built = params_cache[spec.name] = build_params(plugin.default_params, rule_params, spec.facts)
        outcomes.append(check_service(plugin, spec, parsed, rule_params, store, now, hint, built,
                                      baselines.get(spec.name) if baselines else None))
        if store:
            used_stores[spec.name] = store
    sections = frozenset(split.sections)
    if discovery is None or not discovery.still_good(sections, now):
        discovery = Discovery(sections, discover_services(catalog.plugins, parsed, host, rules), now)
    outcomes.append(_discovery_outcome(host, specs, discovery.found, ignored))
    return CycleResult(HostCycle(host, now, True, "", outcomes, used_stores), discovery, parsed, piggyback)


def _piggyback(catalog: Catalog, split: SplitOutput, parsed: ParsedHost, host: str) -> tuple[dict[str, str], list[str]]:
    """`<<<<host>>>>` blocks, and what sections derive for other hosts (`AgentSection.piggyback`);
    with what had to be dropped, and why."""
    texts: dict[str, list[str]] = {}
    problems: list[str] = []
    bad: list[str] = []
    for target, pieces in split.piggyback.items():
        if HOST_NAME.fullmatch(target) and target != host:
            texts[target] = pieces
        else:
            bad.append(target)
    done: set[str] = set()
    for section in catalog.piggyback_sections:
        value = parsed.sections.get(section.produces)
        if value is None or section.produces in done or section.piggyback is None:
            continue
        done.add(section.produces)
        try:
            derived = section.piggyback(value)
        except Exception as exc:  # a plugin's bug: said on the Agent service, the checks go on
            problems.append(f"the data for other hosts could not be taken from {section.produces} "
                            f"({type(exc).__name__}: {str(exc)[:200]})")
            continue
        for target, text in derived.items():
            if HOST_NAME.fullmatch(target) and target != host:
                texts.setdefault(target, []).append(text)
            else:
                bad.append(target)
    if len(texts) > MAX_PIGGYBACK_HOSTS:
        problems.append(f"piggyback data for {len(texts):,} hosts: only the first {MAX_PIGGYBACK_HOSTS:,} are kept")
        texts = dict(list(texts.items())[:MAX_PIGGYBACK_HOSTS])
    if bad:
        shown = [name if len(name) <= 60 else name[:60] + "..." for name in bad]
        problems.append(f"piggyback data for {len(bad)} name{'s' if len(bad) > 1 else ''} that cannot be a host's "
                        f"(this host's own, or not letters, digits, '.', '-', '_') was dropped: {_listing(shown)}")
    return {target: "".join(pieces) for target, pieces in texts.items()}, problems


def _agent_outcome(fetched: AgentOutput, split: SplitOutput, known: frozenset[str],
                   problems: dict[str, str], unread: dict[str, str], piggyback: dict[str, str],
                   piggyback_problems: list[str]) -> Outcome:
    names = [name for name in split.sections if name != SOURCES_SECTION]
    unknown = sorted(name for name in names if name not in known)
    summary = (f"fetched {render.bytes_(len(fetched.data))} in {fetched.seconds:.2f} s, "
               f"{len(names)} sections")
    details = []
    sources = split.sections.get(SOURCES_SECTION)
    if sources:
        said = ", ".join(f"{row[0]} ({render.timespan(float(row[1]))} old)" if len(row) == 2 and _number(row[1])
                         else " ".join(row) for row in sources[:5])
        summary = f"piggyback data from {said}, {len(names)} section{'s' if len(names) != 1 else ''}"
    if piggyback:
        details.append(f"Piggyback data for {len(piggyback)} other hosts: {_listing(sorted(piggyback), 20)}")
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
    if problems or unread or split.problems or piggyback_problems:
        named = sorted(problems.values()) + sorted(unread.values()) + piggyback_problems
        text = "; ".join(named + split.problems[:1])
        return Outcome(AGENT_SERVICE, State.WARN, f"{text} ({summary})", "\n".join(named + details))
    return Outcome(AGENT_SERVICE, State.OK, summary, "\n".join(details))


def _discovery_outcome(host: str, specs: Sequence[ServiceSpec], discovered: Sequence[ServiceSpec],
                       ignored: Collection[str]) -> Outcome:
    monitored = {spec.name for spec in specs}
    found = {spec.name for spec in discovered}
    left_out = found.intersection(ignored) - monitored
    new, vanished = sorted(found - monitored - left_out), sorted(monitored - found)
    skipped = f", {len(left_out)} ignored" if left_out else ""
    parts = []
    if new:
        parts.append(f"{len(new)} new service{'s' if len(new) > 1 else ''} not monitored: {_listing(new)}")
    if vanished:
        parts.append(f"{len(vanished)} vanished: {_listing(vanished)}")
    if not parts:
        return Outcome(DISCOVERY_SERVICE, State.OK, f"all {len(monitored)} discovered services are monitored"
                       + skipped)
    return Outcome(DISCOVERY_SERVICE, State.WARN, "; ".join(parts) + skipped +
                   f"; run `watchkeeper discover {host}` or use the host's discovery page")


def _number(text: str) -> bool:
    try:
        return 0 <= float(text) < 1e10
    except ValueError:
        return False


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
