"""Events to messages: cancel out what recovered within the window, then one subject and one
plain-text body per contact and channel."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from watchkeeper.model.notifications import Event
from watchkeeper.model.states import HOST_NAMES, NAMES, OK

MAX_LINES = 200


def state_name(service: str, state: int) -> str:
    return HOST_NAMES.get(state, NAMES[state]) if service == "" else NAMES[state]


def compact(events: Sequence[Event]) -> tuple[list[Event], list[Event]]:
    """(kept, dropped). Per service, a run of state changes becomes its net change; a run that
    ends where it began (a problem that recovered within the window) is dropped entirely."""
    runs: dict[tuple[str, str, str], list[Event]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e.ts):
        family = "flap" if event.kind.startswith("FLAPPING") else "state"
        runs[(event.host, event.service, family)].append(event)
    kept: list[Event] = []
    dropped: list[Event] = []
    for (_, _, family), run in runs.items():
        first, last = run[0], run[-1]
        if family == "flap":
            if len(run) % 2 == 0:  # started and stopped flapping inside the window
                dropped.extend(run)
            else:
                kept.append(last)
                dropped.extend(run[:-1])
            continue
        if len(run) > 1 and first.previous == last.state and last.kind != "RENOTIFY":
            dropped.extend(run)
            continue
        dropped.extend(run[:-1])
        if len(run) > 1:
            kind = "RECOVERY" if last.state == OK else "PROBLEM"
            last = Event(last.key, last.host, last.service, kind, first.previous, last.state, last.summary,
                         last.ts, last.rule, last.contact, last.channel)
        kept.append(last)
    kept.sort(key=lambda e: (e.state == OK, -e.state, e.host, e.service))
    return kept, dropped


def compose(events: Sequence[Event], digest: bool = False) -> dict[str, Any]:
    """A message body: subject, text and the events as data (for webhooks and scripts)."""
    problems = [e for e in events if e.state != OK and not e.kind.startswith("FLAPPING")]
    recoveries = [e for e in events if e.state == OK and not e.kind.startswith("FLAPPING")]
    flapping = [e for e in events if e.kind.startswith("FLAPPING")]
    if len(events) == 1:
        subject = _line(events[0], short=True)
    else:
        parts = [f"{len(group)} {word}{'s' if len(group) > 1 else ''}"
                 for group, word in ((problems, "problem"), (recoveries, "recovery"), (flapping, "flapping change"))
                 if group]
        hosts = len({e.host for e in events})
        subject = ", ".join(parts).replace("recoverys", "recoveries") + f" on {hosts} host{'s' if hosts > 1 else ''}"
    if digest:
        subject = "Daily digest: " + subject
    lines = [_line(e) for e in events[:MAX_LINES]]
    if len(events) > MAX_LINES:
        lines.append(f"... and {len(events) - MAX_LINES} more (watchkeeper status shows all)")
    return {"subject": subject, "text": "\n".join(lines) + "\n", "digest": digest,
            "events": [e.to_json() for e in events]}


def _line(event: Event, short: bool = False) -> str:
    state = state_name(event.service, event.state)
    what = f"{event.host}" if event.service == "" else f"{event.host} / {event.service}"
    if event.kind == "FLAPPING_START":
        head = f"FLAPPING {what}"
    elif event.kind == "FLAPPING_STOP":
        head = f"STOPPED FLAPPING {what}: now {state}"
    else:
        was = state_name(event.service, event.previous)
        again = " (still)" if event.kind == "RENOTIFY" else f" (was {was})"
        head = f"{state} {what}{again}"
    if short:  # a subject line: a summary's line breaks would end the mail header (header injection)
        return " ".join(f"{head}: {event.summary}".split())[:200]
    when = datetime.fromtimestamp(event.ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{head}\n    {event.summary}\n    at {when}"
