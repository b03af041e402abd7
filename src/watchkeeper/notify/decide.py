"""Who is told what about one service now, rule by rule, with the reason for every rule that
tells nothing. One pure function: the notifier acts on its answer, and `notify test`
prints it, so what is explained is what is done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from watchkeeper.model.alerts import AlertState
from watchkeeper.model.notifications import NotificationRule
from watchkeeper.model.states import OK
from watchkeeper.notify.messages import state_name


@dataclass(frozen=True, slots=True)
class Decision:
    rule: NotificationRule
    tell: str
    """PROBLEM, RECOVERY or RENOTIFY; '' when this rule tells nothing (then `why_not` says why)."""
    why_not: str = ""
    waits: str = ""
    """Set when the rule would tell but its timing holds it (escalation, grace, a closed period)."""
    last: bool = False
    """No rule after this one is considered (it suppresses, or stops)."""
    matches: bool = True


def decide(rules: Sequence[NotificationRule], host: str, service: str, labels: Mapping[str, str],
           alert: AlertState, told: Mapping[int, tuple[int, float]], acknowledged: bool,
           now: float) -> list[Decision]:
    """Each rule in order until one suppresses or stops. `told`: rule id -> (state, when) it last
    told; `acknowledged`: whether an acknowledgement holds for the service's hard state."""
    decisions = []
    for rule in rules:
        why = rule.mismatch(host, service, labels, alert.summary)
        if why:
            decisions.append(Decision(rule, "", f"does not match: {why}", matches=False))
            continue
        if rule.suppress:
            decisions.append(Decision(rule, "", "matches and suppresses: no rule after it applies", last=True))
            break
        state, at = told.get(rule.id, (OK, 0.0))
        decisions.append(_due(rule, state, at, alert, acknowledged, service, now))
        if rule.stop:
            break
    return decisions


def _due(rule: NotificationRule, told: int, told_at: float, alert: AlertState, acknowledged: bool, service: str,
         now: float) -> Decision:
    hard = alert.hard
    window = rule.window()
    closed = f"when its period '{rule.period}' opens" if window is not None and not window.contains(now) else ""
    if hard == told:
        if hard == OK:
            return Decision(rule, "", "matches, but it told no problem, so there is no recovery to tell",
                            last=rule.stop)
        if rule.renotify_s and not acknowledged and now - told_at >= rule.renotify_s:
            return Decision(rule, "RENOTIFY", waits=closed, last=rule.stop)
        return Decision(rule, "", f"matches, but it already told {state_name(service, hard)}", last=rule.stop)
    if hard == OK:
        return Decision(rule, "RECOVERY", waits=closed, last=rule.stop)
    why = rule.wants(told, hard)
    if why:
        return Decision(rule, "", f"matches, but {why}", last=rule.stop)
    if acknowledged:
        return Decision(rule, "", "matches, but it is acknowledged: problems are not told", last=rule.stop)
    waits = closed
    if now - alert.hard_since < rule.after_s + rule.grace_s:
        waits = waits or "once its escalation delay and grace period have passed"
    return Decision(rule, "PROBLEM", waits=waits, last=rule.stop)

