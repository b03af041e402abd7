"""Parse a host's sections once, discover services, and run each service's check.

Exceptions from a parser or a check are caught here and become that service's UNKNOWN
with the exception's summary; the traceback goes to the log. All other services go on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.checkapi import (
    AgentSection,
    Metric,
    Pending,
    Result,
    SectionUnparsed,
    State,
    StringTable,
    build_params,
    render,
)
from watchkeeper.collect.sections import SplitOutput
from watchkeeper.engine.catalog import AnyPlugin, Catalog
from watchkeeper.model.baselines import Baseline, judge
from watchkeeper.model.cycles import Outcome, ServiceSpec
from watchkeeper.model.rules import Rule, items_named_by_rules
from watchkeeper.model.states import PENDING
from watchkeeper.model.verdicts import SEVERITY as _SEVERITY

log = logging.getLogger(__name__)

_MARKS = {State.OK: "", State.WARN: " (!)", State.CRIT: " (!!)", State.UNKNOWN: " (?)"}


@dataclass(slots=True)
class ParsedHost:
    """Each parsed section of one output, or why there is none."""

    sections: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    """Parsed section -> why its agent section could not be read (unparsed format, or a parser crash)."""
    unread: dict[str, str] = field(default_factory=dict)
    """Agent section -> the lines its parser skipped (the section was read, these lines were not)."""
    memo: dict[str, Parsing] = field(default_factory=dict)
    """What each agent section's parser made of its text: reused while the text is unchanged."""
    fingerprints: dict[str, int] = field(default_factory=dict)
    """Of the texts the memo keeps values for: `split_sections(known=...)` of the next output
    leaves these sections unsplit. Companion sections are not in it: they are always split,
    for the section that reads them may have changed."""
    seen: dict[str, int] = field(default_factory=dict)
    """Every section's fingerprint in this output, to tell a stable section from a changing one."""

    def for_next_cycle(self) -> ParsedHost:
        """What the next cycle of the host reads of this one (`parse_host`'s `previous`): the memo
        and fingerprints, not the values of the sections that change every time (the process
        table, counters). Held from one cycle to the next, those were hundreds of objects per
        host that outlived the garbage collector's young generation and burdened every full
        collection; dropped now, they are freed when the cycle ends."""
        return ParsedHost(memo=self.memo, fingerprints=self.fingerprints, seen=self.seen)


@dataclass(frozen=True, slots=True)
class Parsing:
    companions: tuple[tuple[str, int], ...]
    """The companion sections read with it, with their fingerprints."""
    value: Any
    problem: str | None
    unread: str | None


def parse_host(catalog: Catalog, split: SplitOutput, host: str = "", previous: ParsedHost | None = None) -> ParsedHost:
    """Parse every section the output carries, once each; for two sections with the same facts
    (Checkmk's and ours) the catalog's preferred one is used. A section whose text (and its
    companions') is unchanged since `previous` keeps its parsed value: parsers are pure, and
    check plugins only read sections."""
    unchanged = split.unchanged
    prints = split.fingerprints
    parsed = ParsedHost(seen=prints)
    before = previous.memo if previous is not None else {}
    seen_before = previous.seen if previous is not None else {}
    companion_names = catalog.companion_names
    positions = catalog.positions
    for _, agent_section in sorted(place for name in split.sections for place in positions.get(name, ())):
        produces = agent_section.produces
        name = agent_section.name
        if produces in parsed.sections:
            continue
        table = split.sections[name]
        companions = tuple((c, prints.get(c, 0)) for c in agent_section.companions if c in split.sections)
        known = before.get(name)
        if known is None or name not in unchanged or known.companions != companions:
            if name in unchanged:  # its text is the same but a companion's is not
                table = split.table(name)
            known = _parse(agent_section, split, table, companions, host)
        # Keep the value of a section seen for the first time or unchanged since the last
        # output; one that changes every time (counters, the process table) is not kept, so a
        # host costs memory only for what is likely to be reused.
        if name in prints and name not in companion_names and (previous is None or seen_before.get(name)
                                                                in (None, prints[name])):
            parsed.memo[name] = known
            parsed.fingerprints[name] = prints[name]
        if known.problem is not None:
            parsed.problems.setdefault(produces, known.problem)
            continue
        if known.value is not None:
            parsed.sections[produces] = known.value
            parsed.problems.pop(produces, None)
            if known.unread is not None:
                parsed.unread[name] = known.unread
    return parsed


def _parse(agent_section: AgentSection[Any], split: SplitOutput, table: StringTable,
           companions: tuple[tuple[str, int], ...], host: str) -> Parsing:
    name = agent_section.name
    if companions:
        table = [*table]
        for companion in agent_section.companions:
            rows = split.sections.get(companion)
            if rows is not None:
                table.append([f"<<<{companion}>>>"])
                table.extend(rows)
    try:
        value = agent_section.parse(table)
    except SectionUnparsed as exc:
        return Parsing(companions, None, f"section <<<{name}>>> could not be read: {exc}", None)
    except Exception as exc:  # a parser bug must not cost the host's other services
        log.exception("%s: parser of section %r crashed", host, name)
        return Parsing(companions, None, f"parser of <<<{name}>>> crashed: {type(exc).__name__}: {_short(exc)}",
                       None)
    unread = getattr(value, "unread", None)
    text = (f"<<<{name}>>>: {len(unread)} line{'s' if len(unread) > 1 else ''} not understood, the first: "
            f"{unread[0]}") if unread else None
    return Parsing(companions, value, None, text)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."


def discover_services(plugins: Iterable[AnyPlugin], parsed: ParsedHost, host: str = "",
                      rules: Sequence[Rule] = ()) -> list[ServiceSpec]:
    found: dict[str, ServiceSpec] = {}
    for plugin in plugins:
        section = parsed.sections.get(plugin.section)
        if section is None:
            continue
        if plugin.items_from_rules:
            for item in items_named_by_rules(rules, plugin.name):
                name = plugin.service_name(item)
                found.setdefault(name, ServiceSpec(name, plugin.name, item))
            continue
        try:
            for service in plugin.discover(section):
                name = plugin.service_name(service.item)
                found.setdefault(name, ServiceSpec(name, plugin.name, service.item, dict(service.facts)))
        except Exception:
            log.exception("%s: discovery of %s crashed; its services are left as they were", host, plugin.name)
    return list(found.values())


def check_service(
    plugin: AnyPlugin,
    spec: ServiceSpec,
    parsed: ParsedHost,
    rule_params: Mapping[str, object],
    store: dict[str, Any],
    now: float,
    missing_hint: str = "",
    params: Any = None,
    baselines: Mapping[str, Baseline] | None = None,
) -> Outcome:
    """`params`: the parameters already built from `rule_params` and the facts (kept between cycles);
    `baselines`: this service's metrics' learned baselines, by metric name, judged beside the check."""
    section = parsed.sections.get(plugin.section)
    if section is None:
        reason = parsed.problems.get(plugin.section) or (
            f"section <<<{plugin.section}>>> is missing from the agent output{missing_hint}"
        )
        return Outcome(spec.name, State.UNKNOWN, reason)
    try:
        if params is None:
            params = build_params(plugin.default_params, rule_params, spec.facts)
        results = plugin.check(spec.item, params, section, store, now)
        if baselines:
            results = _with_baselines(list(results), baselines, now)
        return collapse(spec.name, results)
    except Exception as exc:  # our bug or a section we did not foresee: this service only
        log.exception("check %s crashed for %r", plugin.name, spec.name)
        return Outcome(spec.name, State.UNKNOWN, f"check crashed: {type(exc).__name__}: {exc} "
                       "(traceback in the daemon's log; please report it with the agent output)")


def _with_baselines(results: list[Result | Metric | Pending], baselines: Mapping[str, Baseline],
                    now: float) -> list[Result | Metric | Pending]:
    """Each metric that has a baseline, judged against it (`model/baselines.judge`)."""
    judged: list[Result | Metric | Pending] = []
    for result in results:
        if type(result) is Metric and result.name in baselines:
            verdict = judge(baselines[result.name], result.value, now, _RENDER.get(result.unit))
            judged.append(Result(State(verdict.state), f"{result.name}: {verdict.text}"))
    return results + judged


_RENDER = {"B": render.bytes_, "B/s": render.bytes_per_second, "%": render.percent, "/s": render.per_second,
           "s": render.timespan}


def collapse(name: str, results: Iterable[Result | Metric | Pending]) -> Outcome:
    """Many results into one outcome: the worst state, the summaries joined, marks on problems."""
    state = State.OK
    summaries: list[str] = []
    details: list[str] = []
    metrics: list[Metric] = []
    pending: list[str] = []
    judged = False
    for result in results:
        if type(result) is Metric:
            metrics.append(result)
        elif type(result) is Result:
            judged = True
            if _SEVERITY[result.state] > _SEVERITY[state]:
                state = result.state
            if result.summary:
                summaries.append(result.summary + _MARKS[result.state])
            if result.details:
                details.append(result.details)
        elif type(result) is Pending:
            pending.append(result.summary)
    if not judged:
        if pending:
            return Outcome(name, PENDING, "; ".join(pending), metrics=metrics)
        return Outcome(name, State.UNKNOWN, "the check gave no result; is the item still there?",
                       metrics=metrics)
    return Outcome(name, int(state), ", ".join(summaries + pending), "\n".join(details), metrics)

