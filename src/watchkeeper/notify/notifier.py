"""Alert states to spooled events.

For every service and every notification rule that applies to it, the notifier remembers
what that rule last told (`notified`). Whenever the hard state differs from what was told,
and nothing holds it back, it tells again. This one comparison covers the awkward cases:
a problem that outlives a downtime is told when the downtime ends; one that recovers inside
it is never told; a recovery goes only to those who heard of the problem; an escalation
rule tells once its delay has passed; and a time period defers rather than drops.

Held back are: services in a downtime (or whose host is), services of a host that is not UP
(the host's notification covers them), flapping services (one FLAPPING message instead),
acknowledged problems, escalation delays, grace periods and closed time periods.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from watchkeeper.model.alerts import AlertPolicy, AlertState, Tracked, Transition
from watchkeeper.model.calendar import parse_window
from watchkeeper.model.cycles import HostCycle
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.notifications import Acknowledgement, Contact, Downtime, Event, NotificationRule
from watchkeeper.model.states import CRIT, HOST_NAMES, NAMES, OK, PENDING, STALE
from watchkeeper.notify.decide import decide
from watchkeeper.notify.messages import compact, compose, state_name
from watchkeeper.notify.states import advance, flap_explanation
from watchkeeper.store.notify_tables import NotifyTables

log = logging.getLogger(__name__)


def _log_transition(key: Key, transition: Transition, summary: str) -> None:
    """One line in the daemon's log for each hard state change and each start or end of flapping."""
    host, service = key
    names = NAMES if service else HOST_NAMES
    if transition.kind == "HARD":
        log.info("%s %s: %s -> %s: %s", host, service or "(host)", names.get(transition.previous, "?"),
                 names.get(transition.state, "?"), summary[:300])
    else:
        log.info("%s %s: %s", host, service or "(host)", transition.kind.lower().replace("_", " "))

Key = tuple[str, str]
"""(host, service); the host itself is service ''."""


@dataclass(frozen=True, slots=True)
class Config:
    rules: list[NotificationRule]
    contacts: dict[str, Contact]
    downtimes: list[Downtime]
    acks: dict[Key, Acknowledgement]
    labels: dict[str, dict[str, str]]


class Notifier:
    def __init__(self, tables: NotifyTables, *, clock: Callable[[], float] = time.time,
                 new_key: Callable[[], str] = lambda: uuid.uuid4().hex) -> None:
        self.tables = tables
        self.clock = clock
        self.new_key = new_key
        self.tracked = tables.load_alerts()
        self.dirty: set[Key] = set()
        self.gone: set[Key] = set()
        self.pending: list[tuple[Event, str, float]] = []
        self.batches: dict[tuple[str, str, str], float] = {}
        self.config = Config([], {}, [], {}, {})
        self.reload()

    def reload(self) -> None:
        labels = {row.config.name: dict(row.config.opts.labels) for row in self.tables.store.hosts()}
        self.config = Config(self.tables.rules(), self.tables.contacts(), self.tables.downtimes(),
                             self.tables.acknowledgements(), labels)

    def acknowledged(self, host: str) -> dict[str, float]:
        """This host's acknowledged services and when: checks that keep messages clear them."""
        return {service: ack.created for (name, service), ack in self.config.acks.items() if name == host}

    # ------------------------------------------------------------------ results in
    def observe(self, cycle: HostCycle, policy: AlertPolicy) -> bool:
        """Fold a host cycle into the alert states; True when a problem is still soft (retry soon)."""
        now = cycle.started
        soft = False
        if not cycle.partial:
            soft = self._observe_one((cycle.host, ""), OK if cycle.up else CRIT, cycle.error or "host UP", now,
                                     policy)
        tracked = self.tracked
        for outcome in cycle.outcomes:
            observed = STALE if outcome.stale else (OK if outcome.state == PENDING else outcome.state)
            key = (cycle.host, outcome.name)
            if observed == OK and key not in tracked:
                continue  # the common case: OK and nothing remembered
            soft = self._observe_one(key, observed, outcome.summary, now, policy) or soft
        return soft

    def _observe_one(self, key: Key, observed: int, summary: str, now: float, policy: AlertPolicy) -> bool:
        tracked = self.tracked.get(key)
        if tracked is None:
            if observed == OK:
                return False
            tracked = self.tracked[key] = Tracked(AlertState(since=now, hard_since=now), {}, [])
        alert = tracked.alert
        before = (alert.state, alert.hard, alert.attempt, alert.changes, alert.flapping)
        transitions = advance(alert, observed, now, policy)
        if alert.state != OK or transitions:
            alert.summary = summary  # not worth a write by itself: the next result brings it again
        if before != (alert.state, alert.hard, alert.attempt, alert.changes, alert.flapping):
            self.dirty.add(key)
        if transitions:
            self._end_acknowledgement(key, alert.hard, now)
            for transition in transitions:
                _log_transition(key, transition, summary)
                if transition.kind != "HARD":
                    self._tell_flapping(key, tracked, transition, now)
            self._evaluate(key, tracked, now)
        return alert.soft_problem

    # ------------------------------------------------------------------ time passes
    def tick(self, now: float | None = None) -> None:
        """Re-evaluate open services (downtimes ending, escalations, periods opening, acks
        expiring), compose due bulk and digest messages, and save."""
        now = self.clock() if now is None else now
        for key, ack in list(self.config.acks.items()):
            if ack.expires is not None and now >= ack.expires:
                self._end_acknowledgement(key, OK, now)
                tracked = self.tracked.get(key)
                if tracked is not None:  # a problem that outlived its acknowledgement is told again
                    tracked.notified = {rule: (OK, at) for rule, (_, at) in tracked.notified.items()}
        for key, tracked in list(self.tracked.items()):  # only services with something remembered
            self._evaluate(key, tracked, now)
        self.commit()
        self.compose_due(now)

    def commit(self) -> None:
        for key in list(self.dirty):
            tracked = self.tracked.get(key)
            if tracked is not None and _quiet(tracked):
                del self.tracked[key]
                self.gone.add(key)
        alerts = {key: self.tracked[key] for key in self.dirty if key in self.tracked}
        if not alerts and not self.pending and not self.gone:
            return
        self.tables.save(alerts, self.pending, self.gone)
        self.dirty.clear()
        self.gone.clear()
        self.pending = []

    def compose_due(self, now: float) -> int:
        """Turn bulk and digest batches whose time has come into messages; how many were made."""
        groups: dict[tuple[str, str, str], list[tuple[int, Event]]] = defaultdict(list)
        for row in self.tables.spool(["bulk", "digest"], due_before=now, limit=100_000):
            groups[(row.status, row.contact, row.channel)].append((row.id, Event.from_json(row.body)))
        made = 0
        for (status, contact, channel), rows in groups.items():
            self.batches.pop((status, contact, channel), None)
            ids = {event.key: row_id for row_id, event in rows}
            acked = [e for _, e in rows if e.kind in ("PROBLEM", "RENOTIFY")
                     and self._acked((e.host, e.service), e.state, now)]
            if acked:
                for e in acked:  # never told, so no recovery either: the rule knows nothing of it
                    tracked = self.tracked.get((e.host, e.service))
                    if tracked is not None and e.rule in tracked.notified:
                        tracked.notified[e.rule] = (OK, now)
                        self.dirty.add((e.host, e.service))
                self.tables.merge("", contact, channel, {"events": []}, now, [], [ids[e.key] for e in acked],
                                  "acknowledged before it was sent")
            kept, dropped = compact([event for _, event in rows if event not in acked])
            body = compose(kept, digest=status == "digest")
            key = "msg-" + min(ids)
            self.tables.merge(key, contact, channel, body, now, [ids[e.key] for e in kept],
                              [ids[e.key] for e in dropped], "cancelled out: it recovered (or settled) within "
                              "the bulk window" if status == "bulk" else "cancelled out within the digest's day")
            made += bool(kept)
        return made

    # ------------------------------------------------------------------ deciding
    def _evaluate(self, key: Key, tracked: Tracked, now: float) -> None:
        host, service = key
        alert = tracked.alert
        if self.held_back(key, alert, now):
            return
        for decision in decide(self.config.rules, host, service, self.config.labels.get(host, {}), alert,
                               tracked.notified, self._acked(key, alert.hard, now), now):
            if decision.tell and not decision.waits:
                self._emit(decision.rule, key, decision.tell, tracked.notified.get(decision.rule.id, (OK, 0.0))[0],
                           alert.hard, alert.summary, now)
                tracked.notified[decision.rule.id] = (alert.hard, now)
                self.dirty.add(key)

    def held_back(self, key: Key, alert: AlertState, now: float) -> str:
        """Why nothing is told about this service now, or ''."""
        host, service = key
        for downtime in self.config.downtimes:
            if (service == "" and downtime.service is not None) or not downtime.covers(host, service, now):
                continue
            return f"in downtime {downtime.id} by {downtime.author}: {downtime.comment}"
        if service:
            host_alert = self.tracked.get((host, ""))
            if host_alert is not None and host_alert.alert.state != OK:
                return f"its host {host} is not UP: the host's notification covers it"
        if alert.flapping:
            return "flapping: state changes are held until it settles"
        return ""

    def _acked(self, key: Key, hard: int, now: float) -> bool:
        ack = self.config.acks.get(key)
        return ack is not None and ack.holds(hard, now)

    def _end_acknowledgement(self, key: Key, hard: int, now: float) -> None:
        ack = self.config.acks.get(key)
        if ack is not None and not ack.holds(hard, now):
            self.tables.remove_acknowledgement(*key)
            del self.config.acks[key]
            log.info("%s %s: acknowledgement by %s ended", key[0], key[1] or "(host)", ack.author)

    def _tell_flapping(self, key: Key, tracked: Tracked, transition: Transition, now: float) -> None:
        host, service = key
        if self.held_back(key, AlertState(), now):
            return
        if transition.kind == "FLAPPING_START":
            labels = self.config.labels.get(host, {})
            for rule in self.config.rules:
                if rule.mismatch(host, service, labels, tracked.alert.summary):
                    continue
                if rule.suppress:
                    break
                self._emit(rule, key, "FLAPPING_START", transition.previous, transition.state,
                           flap_explanation(tracked.alert), now)
                tracked.flap_told.append(rule.id)
                if rule.stop:
                    break
        else:
            rules = {rule.id: rule for rule in self.config.rules}
            for rule_id in tracked.flap_told:
                if rule_id in rules:
                    self._emit(rules[rule_id], key, "FLAPPING_STOP", transition.previous, transition.state,
                               tracked.alert.summary, now)
            tracked.flap_told = []
            # what it settled on is told like any other state, by the next evaluation
        self.dirty.add(key)

    def _emit(self, rule: NotificationRule, key: Key, kind: str, previous: int, state: int, summary: str,
              now: float) -> None:
        for name in rule.contacts:
            contact = self.config.contacts.get(name)
            if contact is None:
                log.warning("notification rule %s names contact %s, which does not exist", rule.id, name)
                continue
            for channel in contact.channels:
                event = Event(self.new_key(), key[0], key[1], kind, previous, state, summary, now, rule.id,
                              name, channel)
                status = "digest" if rule.digest_at else "bulk"
                self.pending.append((event, status, self._batch_due(rule, status, name, channel, now)))

    def _batch_due(self, rule: NotificationRule, status: str, contact: str, channel: str, now: float) -> float:
        if status == "digest":
            at = rule.digest_at
            return parse_window(f"daily {at}-{at}", rule.zone).next_start(now)
        group = (status, contact, channel)
        due = self.batches.get(group)
        if due is None:
            due = self.tables.open_batch_due(status, contact, channel)
        if due is None or due < now:
            due = now + rule.bulk_s
        self.batches[group] = due
        return due

    # ------------------------------------------------------------------ dry run
    def explain(self, host: str, service: str, state: int, summary: str, now: float) -> list[str]:
        """What would happen if this service became hard `state` now, rule by rule."""
        key = (host, service)
        current = self.tracked.get(key)
        alert = AlertState(state=state, hard=state, since=now, hard_since=now, summary=summary)
        what = f"{host} / {service}" if service else f"host {host}"
        lines = [f"{what} becomes {state_name(service, state)}: {summary or '(no summary)'}"]
        held = self.held_back(key, alert, now)
        if held:
            lines.append(f"held back: {held}")
        if self._acked(key, state, now):
            lines.append(f"acknowledged by {self.config.acks[key].author}: problems are not told")
        told = current.notified if current else {}
        told_any = False
        for decision in decide(self.config.rules, host, service, self.config.labels.get(host, {}), alert, told,
                               False, now):
            rule = decision.rule
            label = f"rule {rule.id} ({rule.name or 'unnamed'})"
            if not decision.tell:
                lines.append(f"{label}: {decision.why_not}")
            else:
                told_any = True
                lines.append(f"{label}: notifies {', '.join(rule.contacts)} {self._timing(rule, now)}")
                for name in rule.contacts:
                    contact = self.config.contacts.get(name)
                    channels = ", ".join(contact.channels) if contact else "(no such contact)"
                    lines.append(f"    {name} via {channels}")
            if decision.matches and rule.stop and not rule.suppress:
                lines.append(f"{label} stops here: no rule after it applies")
        if not told_any:
            lines.append("nobody is notified")
        return lines

    def _timing(self, rule: NotificationRule, now: float) -> str:
        parts = []
        if rule.after_s:
            parts.append(f"once it has been hard for {rule.after_s / 60:g} min (escalation)")
        if rule.grace_s:
            parts.append(f"if it has not recovered within {rule.grace_s / 60:g} min")
        window = rule.window()
        if window is not None and not window.contains(now):
            parts.append(f"when its period '{rule.period}' opens")
        if rule.digest_at:
            parts.append(f"in the daily digest at {rule.digest_at} {rule.zone}")
        elif rule.bulk_s:
            parts.append(f"in one message with what else happens within {rule.bulk_s / 60:g} min")
        if rule.renotify_s:
            parts.append(f"and again every {rule.renotify_s / 3600:g} h until acknowledged or OK")
        return ", ".join(parts) or "at once"


def _quiet(tracked: Tracked) -> bool:
    alert = tracked.alert
    return (alert.state == OK and alert.hard == OK and not alert.changes and not alert.flapping
            and not tracked.flap_told and all(state == OK for state, _ in tracked.notified.values()))


def policy_for(host: HostConfig) -> AlertPolicy:
    return AlertPolicy(max_attempts=host.opts.max_attempts)

