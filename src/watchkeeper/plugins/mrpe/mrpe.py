"""MRPE: Nagios plugins that the agent runs on the host (Checkmk's `mrpe.cfg`), one service each.

    <<<mrpe>>>
    (check_load) Load 0 LOAD OK - total load average: 0.41, 0.34, 0.39|load1=0.410;8.000;16.000;0; ...
    (check_tcp) Nothing_listens 2 connect to address 127.0.0.1 and port 1: Connection refused

The line is `(plugin) NAME EXIT_CODE OUTPUT`, after `cached(TIME,INTERVAL)` for an entry the
agent runs less often (stale after two intervals); the agent turns the plugin's newlines into
`\\x01`. The output is read as any plugin's (summary, long output, perfdata), the exit code
is the state. A name may carry `%20` for a space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    NoParams,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
    cache_age,
    split_cached,
)
from watchkeeper.checkapi.plugin_output import PluginOutput, parse_plugin_output, to_metrics

EXIT_STATES = {0: State.OK, 1: State.WARN, 2: State.CRIT, 3: State.UNKNOWN}
SHELL_FAILURES = {126: "is not executable", 127: "was not found"}


@dataclass(frozen=True, slots=True)
class MrpeResult:
    plugin: str
    exit_code: int | None
    output: PluginOutput
    cached_at: float | None = None
    cache_interval: float | None = None


@dataclass(slots=True)
class MrpeSection:
    results: dict[str, MrpeResult] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)


def parse_mrpe(table: StringTable) -> MrpeSection | None:
    section = MrpeSection()
    for row in table:
        words = list(row)
        cached_at = interval = None
        if words and words[0].endswith(")"):
            at, every, rest = split_cached(words[0])
            if not rest:  # the mark is a word of its own: `cached(TIME,INTERVAL)`
                cached_at, interval, words = at, every, words[1:]
        if len(words) < 3 or not (words[0].startswith("(") and words[0].endswith(")")):
            if words and len(section.unread) < 20:
                section.unread.append(f"not `(plugin) NAME EXIT_CODE OUTPUT`: {' '.join(words)[:120]!r}")
            continue
        name = unquote(words[1])
        code = int(words[2]) if words[2].isascii() and words[2].isdigit() and len(words[2]) < 4 else None
        text = " ".join(words[3:]).replace("\x01", "\n")
        section.results.setdefault(name, MrpeResult(words[0][1:-1], code, parse_plugin_output(text),
                                                     cached_at, interval))
    return section if section.results or section.unread else None


def discover_mrpe(section: MrpeSection) -> DiscoveryResult:
    for name in section.results:
        yield Service(name)


def check_mrpe(item: str, params: NoParams, section: MrpeSection, store: ValueStore,
               now: float) -> CheckResult:
    result = section.results.get(item)
    if result is None:
        yield Result(State.UNKNOWN, f"the agent no longer runs {item!r} (not in its mrpe.cfg any more?)")
        return
    age = cache_age(result.cached_at, result.cache_interval, now)
    if age is not None:
        yield Result(State.UNKNOWN, f"stale: the agent's {age}: {result.output.summary}")
        return
    state = EXIT_STATES.get(result.exit_code if result.exit_code is not None else -1)
    if result.exit_code in SHELL_FAILURES:
        yield Result(State.UNKNOWN, f"{result.plugin} {SHELL_FAILURES[result.exit_code]} on the host "
                     f"(exit code {result.exit_code}){': ' + result.output.summary if result.output.summary else ''}",
                     details="Check the command line in the agent's mrpe.cfg.")
        return
    if state is None:
        yield Result(State.UNKNOWN, f"{result.plugin} exited with {result.exit_code}, which is no Nagios state: "
                     f"{result.output.summary}", details=result.output.long_output)
    else:
        yield Result(state, result.output.summary or f"{result.plugin} printed nothing",
                     details=result.output.long_output)
    if result.output.problems:
        yield Result(State.OK, "", details="Perfdata not understood: " + "; ".join(result.output.problems))
    yield from to_metrics(result.output.perfdata)


mrpe_section = AgentSection("mrpe", parse_mrpe)

mrpe = CheckPlugin(
    name="mrpe",
    section="mrpe",
    title="%s",
    discover=discover_mrpe,
    check=check_mrpe,
    default_params=NoParams(),
)
