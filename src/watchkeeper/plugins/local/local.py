"""Local checks: scripts on the host that print their own verdicts, one service per line.

    <<<local:sep(0)>>>
    0 "Nightly rsync" age=3600;90000;172800 last run 1 hour ago
    2 Tape_library - no tape in the drive
    P "Spool usage" used=82;80;90 spool fill
    cached(1700000000,3600) 0 Slow_check - computed once an hour

The format is the Checkmk agent's: a state (0-3, or `P` to judge the metrics against the
levels they carry), the service name (double quotes around one with spaces), metrics
(`name=value;warn;crit;min;max`, several joined by `|`, or `-`), then the text; `\\n` in the
text starts the details. Watchkeeper's agent runs the same scripts (`local` in its
configuration), so the same scripts serve both. A line that does not fit is named, not
dropped silently; a cached result older than twice its interval is stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    NoParams,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    cache_age,
    split_cached,
    to_float,
)

MAX_UNREAD = 20
STATES = {"0": State.OK, "1": State.WARN, "2": State.CRIT, "3": State.UNKNOWN}


@dataclass(frozen=True, slots=True)
class LocalMetric:
    name: str
    value: float
    warn: str = ""
    crit: str = ""
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True, slots=True)
class LocalResult:
    state: str
    """`0`..`3`, or `P`."""
    text: str
    details: str = ""
    metrics: tuple[LocalMetric, ...] = ()
    cached_at: float | None = None
    cache_interval: float | None = None


@dataclass(slots=True)
class LocalSection:
    results: dict[str, LocalResult] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)


def parse_local(table: StringTable) -> LocalSection | None:
    section = LocalSection()
    for row in table:
        line = row[0] if len(row) == 1 else " ".join(row)
        if line.strip():
            _parse_line(section, line.strip())
    return section if section.results or section.unread else None


def _parse_line(section: LocalSection, line: str) -> None:
    cached_at, interval, line = split_cached(line)
    state, _, rest = line.partition(" ")
    if state not in STATES and state != "P":
        _problem(section, line, f"the state {state[:20]!r} is not 0, 1, 2, 3 or P")
        return
    try:
        name, rest = _name(rest)
    except ValueError as exc:
        _problem(section, line, str(exc))
        return
    metrics_text, _, text = rest.strip().partition(" ")
    metrics = _metrics(metrics_text) if metrics_text != "-" else ()
    if metrics is None:
        _problem(section, line, f"the metrics {metrics_text[:60]!r} are not name=value;warn;crit;min;max")
        return
    summary, _, details = text.replace("\\n", "\n").partition("\n")
    if name in section.results:
        _problem(section, line, f"a second line for service {name!r}; the first is kept")
        return
    section.results[name] = LocalResult(state, summary.strip(), details.strip(), metrics, cached_at, interval)


def _name(rest: str) -> tuple[str, str]:
    rest = rest.lstrip()
    if rest.startswith('"'):
        closing = rest.find('"', 1)
        if closing < 0:
            raise ValueError("the quoted service name does not end")
        name, rest = rest[1:closing], rest[closing + 1:]
    else:
        name, _, rest = rest.partition(" ")
    if not name:
        raise ValueError("the line has no service name")
    return name, rest


def _metrics(text: str) -> tuple[LocalMetric, ...] | None:
    found = []
    for part in text.split("|"):
        name, equals, values = part.partition("=")
        fields = values.split(";") + [""] * 4
        value = to_float(fields[0])
        if not equals or not name or value is None:
            return None
        found.append(LocalMetric(name, value, fields[1], fields[2], to_float(fields[3]), to_float(fields[4])))
    return tuple(found)


def _problem(section: LocalSection, line: str, why: str) -> None:
    if len(section.unread) < MAX_UNREAD:
        section.unread.append(f"{why}: {line[:120]!r}")


def discover_local(section: LocalSection) -> DiscoveryResult:
    for name in section.results:
        yield Service(name)


def check_local(item: str, params: NoParams, section: LocalSection, store: ValueStore, now: float) -> CheckResult:
    result = section.results.get(item)
    if result is None:
        yield Result(State.UNKNOWN, f"the agent's local checks no longer print {item!r}",
                     details="Was the script removed or renamed? Run service discovery for this host again.")
        return
    age = cache_age(result.cached_at, result.cache_interval, now)
    if age is not None:
        yield Result(State.UNKNOWN, f"stale: the script's {age}: {result.text}")
        return
    if result.state == "P":
        yield from _judged_by_metrics(result)
    else:
        yield Result(STATES[result.state], result.text or "(no text)", details=result.details)
    for metric in result.metrics:
        warn, crit = _upper(metric.warn), _upper(metric.crit)
        levels = (warn, crit) if warn is not None and crit is not None else None
        bounds = (metric.minimum, metric.maximum) if metric.minimum is not None or metric.maximum is not None else None
        yield Metric(metric.name, metric.value, levels, bounds)


def _judged_by_metrics(result: LocalResult) -> CheckResult:
    state = State.OK
    notes = []
    for metric in result.metrics:
        for level, text in ((State.CRIT, metric.crit), (State.WARN, metric.warn)):
            if text and _outside(metric.value, text):
                state = State.worst(state, level)
                notes.append(f"{metric.name} {metric.value:g} (levels {metric.warn or '-'}/{metric.crit or '-'})")
                break
    summary = result.text or "(no text)"
    if notes:
        summary += ": " + ", ".join(notes)
    yield Result(state, summary, details=result.details)


def _upper(text: str) -> float | None:
    return to_float(text.split(":")[-1]) if text else None


def _outside(value: float, text: str) -> bool:
    """`80` is an upper level; `10:90` a range whose outside is a problem."""
    if ":" in text:
        low, _, high = text.partition(":")
        low_value, high_value = to_float(low), to_float(high)
        return (low_value is not None and value < low_value) or (high_value is not None and value > high_value)
    limit = to_float(text)
    return limit is not None and value >= limit


local_section = AgentSection("local", parse_local)

def discover_local_lines(section: LocalSection) -> DiscoveryResult:
    yield Service()


def check_local_lines(item: str, params: NoParams, section: LocalSection, store: ValueStore,
                      now: float) -> CheckResult:
    """The scripts as a whole: how many services they print, and the lines nobody can read."""
    text = f"{len(section.results)} local checks"
    if section.unread:
        yield Result(State.WARN, f"{text}, {len(section.unread)} lines not understood: {section.unread[0]}",
                     details="\n".join(section.unread))
    else:
        yield Result(State.OK, text)


local = CheckPlugin(
    name="local",
    section="local",
    title="%s",
    discover=discover_local,
    check=check_local,
    default_params=NoParams(),
)

local_lines = CheckPlugin(
    name="local_lines",
    section="local",
    title="Local checks",
    discover=discover_local_lines,
    check=check_local_lines,
    default_params=NoParams(),
)
