"""The records of alerting: notification rules, contacts, channels, downtimes, acknowledgements
and the events that become messages. All of them are data in the store."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from watchkeeper.errors import ConfigError
from watchkeeper.model.calendar import WeeklyWindow, check_zone, parse_window
from watchkeeper.model.states import BY_NAME, CRIT, OK, STALE, UNKNOWN, WARN

CHANNEL_KINDS = ("email", "webhook", "script")
PROBLEM_STATES = ("WARN", "CRIT", "UNKNOWN", "STALE")


@dataclass(frozen=True, slots=True)
class NotificationRule:
    """Who hears about which state changes, when and how. Rules are tried in order of id; a
    matching `suppress` rule tells nobody and stops the ones after it, a matching `stop` rule
    tells its contacts and stops the ones after it."""

    id: int = 0
    name: str = ""
    hosts: str = "*"
    """Host name glob."""
    services: str = "*"
    """Service name glob; host notifications have the service name ''."""
    service_regex: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    """Host labels that must all be present with these values."""
    states: tuple[str, ...] = PROBLEM_STATES
    """Problem states to notify (a host DOWN counts as CRIT); recoveries go to the rules told of the problem."""
    transitions: tuple[str, ...] = ()
    """Only these changes, as 'FROM>TO' with * for any state, e.g. 'OK>CRIT', '*>CRIT'; empty: all."""
    summary_regex: str = ""
    period: str = ""
    """A weekly time window ('mon-fri 08:00-18:00'): outside it nothing is sent, and what is
    still due when it opens is sent then."""
    zone: str = "UTC"
    contacts: tuple[str, ...] = ()
    after_s: float = 0.0
    """Escalation: only once the problem has been hard this long."""
    renotify_s: float = 0.0
    """Repeat an unacknowledged problem this often; 0: tell once."""
    grace_s: float = 0.0
    """A problem that recovers within this time after becoming hard is never sent."""
    bulk_s: float = 120.0
    """Problems of this rule within this window go to each contact and channel as one message."""
    digest_at: str = ""
    """'HH:MM': collect into one daily digest sent at that time instead of single messages."""
    suppress: bool = False
    stop: bool = False
    """When this rule matches, the rules after it are not tried (it claims the event)."""
    comment: str = ""

    def __post_init__(self) -> None:
        for state in self.states:
            if state not in BY_NAME:
                raise ConfigError(f"notification rule {self.name!r}: state {state!r} is not one of "
                                  f"{', '.join(PROBLEM_STATES)}, DOWN, UNREACHABLE")
        for transition in self.transitions:
            before, sep, after = transition.partition(">")
            if not sep or not all(part == "*" or part in BY_NAME for part in (before, after)):
                raise ConfigError(f"notification rule {self.name!r}: transition {transition!r} is not "
                                  "'FROM>TO' with state names or *, e.g. 'OK>CRIT' or '*>CRIT'")
        for pattern in (self.service_regex, self.summary_regex):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"notification rule {self.name!r}: {pattern!r} is not a regular "
                                  f"expression ({exc})") from exc
        if self.period:
            parse_window(self.period, self.zone)
        check_zone(self.zone)
        if self.digest_at:
            parse_window(f"daily {self.digest_at}-{self.digest_at}", self.zone)
        if not self.suppress and not self.contacts:
            raise ConfigError(f"notification rule {self.name!r} has no contacts; name at least one, "
                              "or make it a suppress rule")

    def window(self) -> WeeklyWindow | None:
        return parse_window(self.period, self.zone) if self.period else None

    def describe(self) -> str:
        """The rule in one line of words, as `notify list` prints it."""
        def span(seconds: float) -> str:
            return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"
        what = f"hosts {self.hosts}, services {self.services}"
        what += f" matching /{self.service_regex}/" if self.service_regex else ""
        what += "".join(f", label {key}={value}" for key, value in sorted(self.labels.items()))
        what += f", summary matching /{self.summary_regex}/" if self.summary_regex else ""
        when = ", ".join(self.transitions) if self.transitions else " ".join(self.states)
        told = "suppressed (nobody is told)" if self.suppress else "to " + ", ".join(self.contacts)
        how = [f"within {self.period} ({self.zone})" if self.period else "",
               f"after {span(self.after_s)} hard" if self.after_s else "",
               f"again every {span(self.renotify_s)}" if self.renotify_s else "",
               f"not if over within {span(self.grace_s)}" if self.grace_s else "",
               f"daily digest at {self.digest_at} ({self.zone})" if self.digest_at
               else f"bundled over {span(self.bulk_s)}" if self.bulk_s else "",
               "stops the rules after it" if self.stop else ""]
        name = f'"{self.name}": ' if self.name else ""
        return f"{name}{what}; {when} {told}" + "".join(f"; {part}" for part in how if part)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("id")
        return data

    @classmethod
    def from_json(cls, rule_id: int, data: dict[str, Any]) -> NotificationRule:
        known = {f.name for f in fields(cls)} - {"id"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"notification rule: unknown field(s) {', '.join(sorted(unknown))}; "
                              f"known: {', '.join(sorted(known))}")
        values = dict(data)
        for key in ("states", "transitions", "contacts"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(id=rule_id, **values)

    def mismatch(self, host: str, service: str, labels: Mapping[str, str], summary: str) -> str:
        """Why the rule does not apply to this service; '' when it does."""
        if not fnmatch.fnmatchcase(host, self.hosts):
            return f"host {host} does not match {self.hosts!r}"
        if not fnmatch.fnmatchcase(service, self.services):
            return f"service {service!r} does not match {self.services!r}"
        if self.service_regex and not re.search(self.service_regex, service):
            return f"service {service!r} does not match /{self.service_regex}/"
        for key, value in self.labels.items():
            if labels.get(key) != value:
                return f"host label {key}={value} is not set (it is {labels.get(key, 'absent')!r})"
        if self.summary_regex and not re.search(self.summary_regex, summary):
            return f"summary does not match /{self.summary_regex}/"
        return ""

    def wants(self, previous: int, state: int) -> str:
        """'' when this rule notifies the change previous -> state (a problem), else why not."""
        names = _names(state)
        if not any(name in self.states for name in names):
            return f"state {names[0]} is not in its states ({', '.join(self.states)})"
        if self.transitions:
            for transition in self.transitions:
                before, _, after = transition.partition(">")
                if (before == "*" or before in _names(previous)) and (after == "*" or after in names):
                    return ""
            return f"{_names(previous)[0]}>{names[0]} is not one of its transitions ({', '.join(self.transitions)})"
        return ""


def _names(state: int) -> tuple[str, ...]:
    return {OK: ("OK", "UP"), WARN: ("WARN",), CRIT: ("CRIT", "DOWN"), UNKNOWN: ("UNKNOWN", "UNREACHABLE"),
            STALE: ("STALE",)}[state]


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    kind: str
    config: dict[str, Any]

    def __post_init__(self) -> None:
        if self.kind not in CHANNEL_KINDS:
            raise ConfigError(f"channel {self.name}: kind {self.kind!r} is not one of {', '.join(CHANNEL_KINDS)}")
        if self.kind == "webhook" and not str(self.config.get("url", "")).startswith(("http://", "https://")):
            raise ConfigError(f"channel {self.name}: a webhook needs url=http(s)://...")
        if self.kind == "script":
            argv = self.config.get("argv")
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                raise ConfigError(f"channel {self.name}: a script needs argv as a JSON list, e.g. "
                                  "argv='[\"/usr/local/bin/page\", \"--urgent\"]' (never a shell string)")


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    email: str
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Downtime:
    """A one-off window (start to end) or a recurring one (a weekly window, between start and end)."""

    id: int
    host: str
    """Host name glob."""
    service: str | None
    """Service name glob; None: the host and all of its services."""
    start: float
    end: float
    recurring: str
    zone: str
    author: str
    comment: str

    def covers(self, host: str, service: str, ts: float) -> bool:
        if not self.start <= ts < self.end or not fnmatch.fnmatchcase(host, self.host):
            return False
        if self.service is not None and not fnmatch.fnmatchcase(service, self.service):
            return False
        return not self.recurring or parse_window(self.recurring, self.zone).contains(ts)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    host: str
    service: str
    state: int
    author: str
    comment: str
    sticky: bool
    """Sticky: holds until OK. Otherwise a change to another problem state ends it."""
    expires: float | None
    created: float

    def holds(self, hard: int, now: float) -> bool:
        if hard == OK or (self.expires is not None and now >= self.expires):
            return False
        return self.sticky or hard == self.state


@dataclass(frozen=True, slots=True)
class Event:
    """One state change told to one contact on one channel; several become one message."""

    key: str
    host: str
    service: str
    kind: str
    """PROBLEM, RECOVERY, RENOTIFY, FLAPPING_START, FLAPPING_STOP."""
    previous: int
    state: int
    summary: str
    ts: float
    rule: int
    contact: str
    channel: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        return cls(**data)
