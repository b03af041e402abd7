"""One service per watched log file, from `<<<logwatch:sep(0)>>>` (ours) or `<<<logwatch>>>`
(Checkmk's mk_logwatch plugin, the same format split at whitespace):

    [[[/var/log/syslog]]]
    C kernel: blk_update_request: I/O error, dev sdb, sector 1234
    W sshd[812]: error: maximum authentication attempts exceeded for root
    . a context line around them
    [[[/var/log/gone.log:missing]]]

The agent sends lines its rules classify as C, W or O, and mk_logwatch context lines (`.`),
which are not judged; `\x01` joins a message's continuation lines. Lines in which the agent
says it cannot read its own configuration (`CANNOT READ CONFIG FILE:`, `INVALID
CONFIGURATION:`) warn on every file's service, or, with no file at all, on the Agent service.
Rules on this side (`reclassify`, first match wins: CRIT, WARN, OK or IGNORE) can raise a line
or drop a chatty one without touching the agents. WARN and CRIT lines are kept until someone
acknowledges the service; the service is the worst of what is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Result,
    SectionUnparsed,
    Service,
    State,
    StringTable,
    ValueStore,
)

LEVELS = {"C": State.CRIT, "W": State.WARN, "O": State.OK}
RECLASSIFY = {"CRIT": State.CRIT, "WARN": State.WARN, "OK": State.OK, "IGNORE": None}
SHOWN = 20


@dataclass(frozen=True, slots=True)
class LogFile:
    status: str
    """'' when read; 'missing' or 'cannotopen' as the agent reported."""
    lines: tuple[tuple[State, str], ...]
    problems: tuple[str, ...] = ()
    """What the agent said about its own configuration."""


AGENT_PROBLEMS = ("CANNOT READ CONFIG FILE:", "INVALID CONFIGURATION:")


@dataclass(frozen=True, slots=True)
class LogwatchParams:
    reclassify: tuple[tuple[str, str], ...] = ()
    """[STATE, regex] pairs, first match wins; STATE is CRIT, WARN, OK or IGNORE."""
    keep: int = 100
    """Most messages kept per file; beyond it the oldest WARN go first, then the oldest CRIT."""
    acknowledged_at: float = 0.0
    """Set while the service is acknowledged: messages up to then are cleared."""


def parse_logwatch(table: StringTable) -> dict[str, LogFile]:
    entries: list[tuple[str, str, list[tuple[State, str]]]] = []
    problems: list[str] = []
    for row in table:
        line = row[0] if len(row) == 1 else " ".join(row)
        if line.startswith("[[[") and line.endswith("]]]"):
            path, status = line[3:-3], ""
            for problem in ("missing", "cannotopen"):
                if path.endswith(":" + problem):
                    path, status = path[: -len(problem) - 1], problem
            entries.append((path, status, []))
        elif line.startswith(AGENT_PROBLEMS):
            problems.append(line[:300])
        elif entries and len(line) > 2 and line[1] == " " and line[0] in LEVELS:
            entries[-1][2].append((LEVELS[line[0]], line[2:].replace("\x01", " | ")))
    if problems and not entries:
        raise SectionUnparsed("the agent's logwatch cannot read its configuration: " + "; ".join(problems[:3]))
    return {path: LogFile(status, tuple(lines), tuple(problems)) for path, status, lines in entries if path}


def discover_logwatch(section: dict[str, LogFile]) -> DiscoveryResult:
    for path, log in section.items():
        if not log.status:
            yield Service(path)


def _classify(params: LogwatchParams, state: State, text: str) -> State | None:
    for name, pattern in params.reclassify:
        try:
            if re.search(pattern, text):
                return RECLASSIFY.get(name.upper(), state)
        except re.error:
            continue  # the rule is checked when added; an old broken one must not stop the rest
    return state


Message = tuple[float, State, str]


def _load(store: ValueStore) -> list[Message]:
    """Kept messages are stored as 'TIME STATE TEXT' strings (a value store holds flat values)."""
    messages: list[Message] = []
    stored = store.get("messages")
    for entry in stored if isinstance(stored, list) else []:
        parts = str(entry).split(" ", 2)
        if len(parts) == 3 and parts[1] in ("1", "2"):
            try:
                messages.append((float(parts[0]), State(int(parts[1])), parts[2]))
            except ValueError:
                continue
    return messages


def check_logwatch(item: str, params: LogwatchParams, section: dict[str, LogFile], store: ValueStore,
                   now: float) -> CheckResult:
    log = section.get(item)
    kept = _load(store)
    if params.acknowledged_at and any(ts <= params.acknowledged_at for ts, _, _ in kept):
        kept = [m for m in kept if m[0] > params.acknowledged_at]  # acknowledged: what was seen is cleared
    if log is None:
        yield Result(State.UNKNOWN, f"{item} is no longer watched by the agent",
                     details="Removed from the agent's logwatch configuration? Run service discovery again.")
    elif log.status:
        reason = "it does not exist" if log.status == "missing" else "no permission, or not a file"
        yield Result(State.WARN if log.status == "missing" else State.UNKNOWN,
                     f"the agent cannot read {item}: {reason}")
    for problem in log.problems if log is not None else ():
        yield Result(State.WARN, f"the agent reports: {problem}",
                     details="Until its configuration is fixed the agent may watch fewer lines or files than meant.")
    new_ok = 0
    for level, text in log.lines if log is not None else ():
        state = _classify(params, level, text)
        if state is State.OK:
            new_ok += 1
        elif state is not None:
            kept.append((now, state, text))
    kept = _bounded(kept, params.keep)
    store["messages"] = [f"{ts:.3f} {int(state)} {text}" for ts, state, text in kept]
    if not kept:
        yield Result(State.OK, "no unacknowledged messages" + (f" ({new_ok} OK lines)" if new_ok else ""))
        return
    crit = sum(1 for _, state, _ in kept if state is State.CRIT)
    warn = len(kept) - crit
    counts = ", ".join(part for part in (f"{crit} CRIT" if crit else "", f"{warn} WARN" if warn else "") if part)
    latest = max(kept, key=lambda m: (m[1], m[0]))
    yield Result(State.CRIT if crit else State.WARN,
                 f"{counts} not acknowledged; latest {latest[1].name}: {latest[2][:200]}",
                 details="\n".join(f"{state.name} {text}" for _, state, text in kept[-SHOWN:]))


def _bounded(messages: list[Message], keep: int) -> list[Message]:
    """At most `keep` messages: the oldest WARN go first, then the oldest CRIT."""
    excess = len(messages) - keep
    if excess <= 0:
        return messages
    order = [i for i, m in enumerate(messages) if m[1] is not State.CRIT] + \
            [i for i, m in enumerate(messages) if m[1] is State.CRIT]
    dropped = set(order[:excess])
    return [m for i, m in enumerate(messages) if i not in dropped]


logwatch = CheckPlugin(
    name="logwatch",
    section="logwatch",
    title="Log %s",
    discover=discover_logwatch,
    check=check_logwatch,
    default_params=LogwatchParams(),
    reads_acknowledgements=True,
)


logwatch_section = AgentSection("logwatch", parse_logwatch)
