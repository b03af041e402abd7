"""`Mail queue`, from `<<<mail_queue:sep(9)>>>`: the agent's summary of the local MTA's queue.

    queue	postfix	deferred	12	1796000000	123456
    queue	postfix	active	1	1796059000	2048
    total	postfix	13	125952
    reason	postfix	12	connect to mx.example.com[192.0.2.1]:25: Connection refused
    queue	exim	frozen	2	1795900000	4096
    error	exim	exim exited with 1: ...

Queues: postfix's active, deferred and hold (`postqueue -p`); exim's queued and frozen
(`exim -bp`). `total` is the MTA's own count where it prints one (postfix's summary line, right
even when the listing is long), `reason` the most common deferral reasons (postfix's, and for
exim those in the message logs of the oldest messages). The number of messages and the age of
the oldest one are judged; messages on hold (put there by an admin) and exim's frozen ones
(delivery given up) are counted and told, not aged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Metric,
    Result,
    SectionUnparsed,
    Service,
    State,
    StringTable,
    ValueStore,
    check_levels,
    render,
    to_float,
    to_int,
)

NOT_AGED = ("hold", "frozen")


@dataclass(frozen=True, slots=True)
class Queue:
    count: int
    oldest: float | None
    size_bytes: int


@dataclass(slots=True)
class MailQueue:
    mta: str = ""
    queues: dict[str, Queue] = field(default_factory=dict)
    total: int | None = None
    total_bytes: int | None = None
    reasons: list[tuple[int, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MailQueueParams:
    messages: Levels | None = Fixed(warn=10, crit=50)
    """Messages waiting (hold and frozen ones included)."""
    oldest_seconds: Levels | None = Fixed(warn=3600.0, crit=4 * 3600.0)
    """Age of the oldest message still to be delivered (not on hold, not frozen)."""


def parse_mail_queue(table: StringTable) -> MailQueue:
    found = MailQueue()
    for row in table:
        kind = row[0] if row else ""
        if len(row) >= 2:
            found.mta = found.mta or row[1]
        if kind == "queue" and len(row) >= 6 and to_int(row[3]) is not None:
            found.queues[row[2]] = Queue(to_int(row[3]) or 0, to_float(row[4]), to_int(row[5]) or 0)
        elif kind == "total" and len(row) >= 4:
            found.total, found.total_bytes = to_int(row[2]), to_int(row[3])
        elif kind == "reason" and len(row) >= 4 and to_int(row[2]) is not None:
            found.reasons.append((to_int(row[2]) or 0, row[3]))
        elif kind == "error" and len(row) >= 3:
            found.errors.append(row[2][:300])
        elif row:
            found.unread.append(f"not a queue, total, reason or error line: {' '.join(row)[:200]}")
    if not found.queues and found.total is None and not found.errors:
        raise SectionUnparsed("no queue, total or error line")
    return found


def discover_mail_queue(section: MailQueue) -> DiscoveryResult:
    yield Service()


def check_mail_queue(item: str, params: MailQueueParams, section: MailQueue, store: ValueStore,
                     now: float) -> CheckResult:
    for error in section.errors:
        yield Result(State.UNKNOWN, f"cannot read the {section.mta} queue: {error}")
    if section.errors and not section.queues and section.total is None:
        return
    count = section.total if section.total is not None else sum(q.count for q in section.queues.values())
    yield from check_levels(count, levels_upper=params.messages, metric_name="mail_queue_messages",
                            label=f"{section.mta} queue", render_func=lambda v: f"{v:.0f} messages")
    parts = [f"{q.count} {name}" for name, q in sorted(section.queues.items())]
    if parts and count:
        yield Result(State.OK, ", ".join(parts))
    aged = [q.oldest for name, q in section.queues.items() if name not in NOT_AGED and q.oldest is not None]
    if aged:
        yield from check_levels(max(now - min(aged), 0.0), levels_upper=params.oldest_seconds,
                                metric_name="mail_queue_oldest_seconds", label="oldest message",
                                render_func=render.timespan)
    if section.reasons:
        shown = "; ".join(f"{text} ({number})" for number, text in section.reasons[:3])
        yield Result(State.OK, f"deferred because: {shown}",
                     details="\n".join(f"{number}: {text}" for number, text in section.reasons))
    size = section.total_bytes if section.total_bytes is not None else sum(q.size_bytes
                                                                           for q in section.queues.values())
    yield Metric("mail_queue_bytes", size)


mail_queue_section = AgentSection("mail_queue", parse_mail_queue)

mail_queue = CheckPlugin(
    name="mail_queue",
    section="mail_queue",
    title="Mail queue",
    discover=discover_mail_queue,
    check=check_mail_queue,
    default_params=MailQueueParams(),
)
