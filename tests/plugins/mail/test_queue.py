"""`Mail queue` on a real Postfix listing (`postqueue -p`, 12,991 requests) summarised by the
agent's own function, and on hostile input. The exim path runs against a real exim in
tests/agent/test_mail_queue.py."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, results
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import SectionUnparsed, State, StringTable
from watchkeeper.plugins.mail.queue import MailQueueParams, check_mail_queue, parse_mail_queue

FIXTURES = fixtures(__file__)
LISTING = (FIXTURES / "postqueue_p" / "netdata-12991-requests.txt").read_text()
NOW = time.mktime((2026, 6, 26, 15, 0, 0, 0, 0, -1))  # the listing's day, an hour and a half later


def rows(lines: list[str]) -> StringTable:
    return [line.split("\t") for line in lines]


def test_a_real_postfix_queue_counts_by_its_own_total_and_ages_by_the_oldest_entry() -> None:
    summary = agent.postfix_queue_summary(LISTING, NOW)  # type: ignore[no-untyped-call]
    assert summary[0].startswith("queue\tpostfix\tactive\t11\t") and summary[1] == "total\tpostfix\t12991\t135600128"
    found = results(check_mail_queue("", MailQueueParams(), parse_mail_queue(rows(summary)), {}, NOW))
    assert (found[0].state, found[0].summary) == (State.CRIT, "postfix queue: 12991 messages (warn/crit at 10 "
                                                               "messages/50 messages)")
    assert found[1].summary == "11 active"
    assert found[2].state == State.WARN and found[2].summary.startswith("oldest message: 1 hour 20 minutes")


def test_an_empty_queue_and_a_failing_mta_are_told_apart() -> None:
    empty = agent.postfix_queue_summary("Mail queue is empty\n", NOW)  # type: ignore[no-untyped-call]
    assert [(r.state, r.summary) for r in results(check_mail_queue("", MailQueueParams(),
                                                                   parse_mail_queue(rows(empty)), {}, NOW))] == [
        (State.OK, "postfix queue: 0 messages")]
    failing = parse_mail_queue(rows(["error\tpostfix\tpostqueue exited with 69: fatal: Queue report unavailable"]))
    found = results(check_mail_queue("", MailQueueParams(), failing, {}, NOW))
    assert [r.state for r in found] == [State.UNKNOWN] and "Queue report unavailable" in found[0].summary


def test_nothing_readable_is_unparsed() -> None:
    try:
        parse_mail_queue(rows(["hello"]))
    except SectionUnparsed:
        return
    raise AssertionError("parsed")


@given(st.text(max_size=3000), st.floats(min_value=0, max_value=4e9))
def test_the_agents_summaries_never_crash_on_any_listing(text: str, now: float) -> None:
    for line in agent.postfix_queue_summary(text, now) + agent.exim_queue_summary(  # type: ignore[no-untyped-call]
            text, now, lambda _id: text):
        assert line.count("\n") == 0


@given(st.lists(st.lists(st.one_of(st.sampled_from(["queue", "total", "reason", "error", "exim", "-"]),
                                   st.text(max_size=50), st.from_regex(r"-?\d{1,30}", fullmatch=True)),
                         max_size=7), max_size=20))
def test_any_rows_parse_or_are_unparsed_never_crash(table: StringTable) -> None:
    try:
        section = parse_mail_queue(table)
    except SectionUnparsed:
        return
    list(check_mail_queue("", MailQueueParams(), section, {}, NOW))
