"""What a stream of check results means for alerting: soft and hard states, flapping, staleness.

A problem first is *soft*: the check is retried (the host's `retry_interval_s`), and only
after `max_attempts` non-OK results in a row does it become *hard*, and may be notified. A
change from one problem state to another while hard is hard at once; any OK result after a
hard problem is a hard recovery at once.

Flapping. Each service remembers, for its last 20 results, whether the result changed the
state. The flap percentage weighs these changes from 0.8 (oldest) to 1.2 (newest), so recent
changes count more, and divides by 20: a service that changes on every check is at 100 %.
It starts flapping at 30 % (about six changes in twenty checks) and stops below 15 %. While
flapping, one notification says so, and its state changes are not notified until it stops.

Staleness. A result that carries no fresh data (its host is DOWN, or a passive result is too
old) is the state STALE, separate from UNKNOWN: it is never notified for a service whose
host is down, because the host's own notification covers it.
"""

from __future__ import annotations

from watchkeeper.model.alerts import AlertPolicy, AlertState, Transition
from watchkeeper.model.states import OK, STALE

HISTORY = 20
_MASK = (1 << HISTORY) - 1
_WEIGHTS = tuple(1.2 - 0.4 * age / (HISTORY - 1) for age in range(HISTORY))  # index 0: newest


def flap_percent(changes: int) -> float:
    total = 0.0
    for age in range(HISTORY):
        if changes >> age & 1:
            total += _WEIGHTS[age]
    return 100.0 * total / HISTORY


def advance(alert: AlertState, observed: int, now: float, policy: AlertPolicy) -> list[Transition]:
    """Fold one result into the alert state; return what changed for notifications."""
    changed = observed != alert.state
    if not changed and not alert.changes and (observed == alert.hard):
        return []  # the common case, steady and not flapping: nothing to do
    transitions: list[Transition] = []
    alert.changes = ((alert.changes << 1) | changed) & _MASK
    if changed:
        alert.since = now
    previous_hard = alert.hard
    if observed == OK or observed == STALE:
        alert.attempt = 1
        if alert.hard != observed:
            alert.hard = observed  # recoveries and lost data are hard at once
    elif alert.hard != OK and alert.hard != STALE:
        alert.attempt = policy.max_attempts
        alert.hard = observed  # one problem to another while hard: hard at once
    else:
        # attempts count problem results in a row, WARN and CRIT alike
        alert.attempt = alert.attempt + 1 if alert.state not in (OK, STALE) else 1
        if alert.attempt >= policy.max_attempts:
            alert.attempt = policy.max_attempts
            alert.hard = observed
    alert.state = observed
    if alert.hard != previous_hard:
        alert.hard_since = now
        transitions.append(Transition("HARD", previous_hard, alert.hard))
    percent = flap_percent(alert.changes) if alert.changes else 0.0
    if not alert.flapping and percent >= policy.flap_start_percent:
        alert.flapping = True
        transitions.append(Transition("FLAPPING_START", alert.hard, alert.hard))
    elif alert.flapping and percent < policy.flap_stop_percent:
        alert.flapping = False
        transitions.append(Transition("FLAPPING_STOP", alert.hard, alert.hard))
    return transitions


DEFAULT_POLICY = AlertPolicy()


def flap_explanation(alert: AlertState, policy: AlertPolicy = DEFAULT_POLICY) -> str:
    """Why a service counts as flapping (or not), in words for its details."""
    changes = bin(alert.changes).count("1")
    percent = flap_percent(alert.changes)
    if alert.flapping:
        return (f"flapping: {changes} state changes in the last {HISTORY} checks, weighted {percent:.0f} % "
                f"(starts at {policy.flap_start_percent:g} %, stops below {policy.flap_stop_percent:g} %); "
                "its state changes are not notified until it settles")
    return f"not flapping: {changes} state changes in the last {HISTORY} checks, weighted {percent:.0f} %"
