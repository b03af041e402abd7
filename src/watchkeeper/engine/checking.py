"""Parse a host's sections once, discover services, and run each service's check.

Exceptions from a parser or a check are caught here and become that service's UNKNOWN
with the exception's summary; the traceback goes to the log. All other services go on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.checkapi import Metric, Pending, Result, State, build_params
from watchkeeper.collect.sections import SplitOutput
from watchkeeper.engine.catalog import AnyPlugin
from watchkeeper.engine.model import PENDING, Outcome, ServiceSpec

log = logging.getLogger(__name__)

_MARKS = {State.OK: "", State.WARN: " (!)", State.CRIT: " (!!)", State.UNKNOWN: " (?)"}


@dataclass(slots=True)
class ParsedHost:
    """Each plugin's parsed section; a parser crash is kept as the reason instead."""

    sections: dict[str, Any] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    crashed: dict[str, str] = field(default_factory=dict)


def parse_host(plugins: Iterable[AnyPlugin], split: SplitOutput, host: str = "") -> ParsedHost:
    parsed = ParsedHost()
    by_parser: dict[tuple[str, object], Any] = {}
    for plugin in plugins:
        table = split.sections.get(plugin.section)
        if table is None:
            parsed.missing.add(plugin.name)
            continue
        key = (plugin.section, plugin.parse)
        if key not in by_parser:
            try:
                by_parser[key] = plugin.parse(table)
            except Exception as exc:  # a parser bug must not cost the host's other services
                log.exception("%s: parser of section %r crashed", host, plugin.section)
                by_parser[key] = _Crash(f"parser of <<<{plugin.section}>>> crashed: "
                                        f"{type(exc).__name__}: {exc}")
        section = by_parser[key]
        if isinstance(section, _Crash):
            parsed.crashed[plugin.name] = section.reason
        elif section is None:
            parsed.missing.add(plugin.name)
        else:
            parsed.sections[plugin.name] = section
    return parsed


@dataclass(frozen=True, slots=True)
class _Crash:
    reason: str


def discover_services(plugins: Iterable[AnyPlugin], parsed: ParsedHost, host: str = "") -> list[ServiceSpec]:
    found: dict[str, ServiceSpec] = {}
    for plugin in plugins:
        section = parsed.sections.get(plugin.name)
        if section is None:
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
) -> Outcome:
    section = parsed.sections.get(plugin.name)
    if section is None:
        reason = parsed.crashed.get(plugin.name) or (
            f"section <<<{plugin.section}>>> is missing from the agent output{missing_hint}"
        )
        return Outcome(spec.name, State.UNKNOWN, reason)
    try:
        params = build_params(plugin.default_params, rule_params, spec.facts)
        return collapse(spec.name, plugin.check(spec.item, params, section, store, now))
    except Exception as exc:  # our bug or a section we did not foresee: this service only
        log.exception("check %s crashed for %r", plugin.name, spec.name)
        return Outcome(spec.name, State.UNKNOWN, f"check crashed: {type(exc).__name__}: {exc} "
                       "(traceback in the daemon's log; please report it with the agent output)")


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
            state = State.worst(state, result.state)
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

