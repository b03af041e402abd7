"""The notifier's decision, rule by rule, as one pure function: every rule that tells nothing
says why, and what `notify test` prints is what the notifier does."""

from __future__ import annotations

from pathlib import Path

from tests.notify.harness import Harness
from watchkeeper.model.alerts import AlertState
from watchkeeper.model.notifications import NotificationRule
from watchkeeper.model.states import CRIT, OK, WARN
from watchkeeper.notify.decide import decide

NOW = 1_790_000_000.0


def crit(hard_since: float = NOW - 3600) -> AlertState:
    return AlertState(state=CRIT, hard=CRIT, since=hard_since, hard_since=hard_since, summary="disk full")


def rule(rule_id: int, **fields: object) -> NotificationRule:
    return NotificationRule(id=rule_id, contacts=("ops",), **fields)  # type: ignore[arg-type]


def test_each_rule_tells_or_says_why_not_until_one_stops() -> None:
    rules = [rule(1, hosts="web*"), rule(2, states=("WARN",)), rule(3, stop=True), rule(4)]
    decisions = decide(rules, "nas1", "Disk", {}, crit(), {}, False, NOW)
    assert [(d.rule.id, d.tell, d.why_not) for d in decisions] == [
        (1, "", "does not match: host nas1 does not match 'web*'"),
        (2, "", "matches, but state CRIT is not in its states (WARN)"),
        (3, "PROBLEM", "")]  # rule 4 is never reached


def test_timing_makes_a_rule_wait_and_an_acknowledgement_silences_it() -> None:
    escalation = rule(1, after_s=1800.0)
    [young] = decide([escalation], "nas1", "Disk", {}, crit(hard_since=NOW - 60), {}, False, NOW)
    assert young.tell == "PROBLEM" and young.waits
    [old] = decide([escalation], "nas1", "Disk", {}, crit(), {}, False, NOW)
    assert old.tell == "PROBLEM" and not old.waits
    [acked] = decide([escalation], "nas1", "Disk", {}, crit(), {}, True, NOW)
    assert acked.tell == "" and "acknowledged" in acked.why_not


def test_a_recovery_goes_only_where_the_problem_was_told_and_renotify_repeats() -> None:
    ok = AlertState(state=OK, hard=OK, summary="fine")
    [told] = decide([rule(1)], "nas1", "Disk", {}, ok, {1: (CRIT, NOW - 60)}, False, NOW)
    [never_told] = decide([rule(1)], "nas1", "Disk", {}, ok, {}, False, NOW)
    assert told.tell == "RECOVERY" and never_told.tell == "" and "no recovery to tell" in never_told.why_not
    again = rule(1, renotify_s=3600.0)
    assert decide([again], "nas1", "Disk", {}, crit(), {1: (CRIT, NOW - 4000)}, False, NOW)[0].tell == "RENOTIFY"
    assert decide([again], "nas1", "Disk", {}, crit(), {1: (CRIT, NOW - 60)}, False, NOW)[0].tell == ""


def test_what_the_dry_run_says_is_what_the_notifier_then_does(tmp_path: Path) -> None:
    h = Harness(tmp_path, rules=[NotificationRule(name="crit only", states=("CRIT",), contacts=("ops",),
                                                  bulk_s=0.0)])
    assert h.notifier.explain("h0", "disk", WARN, "", h.now)[-1] == "nobody is notified"
    h.minutes(5, disk=WARN)
    assert h.lines() == []
    assert any(line.startswith("rule 1 (crit only): notifies ops") for line in
               h.notifier.explain("h0", "disk", CRIT, "", h.now))
    h.minutes(5, disk=CRIT)
    assert len(h.lines()) == 1
