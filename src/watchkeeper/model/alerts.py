"""What alerting remembers of a service: its soft/hard state, flapping history, and what each
notification rule has told. Kept in the store (`alerts` table) as compact JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass

from watchkeeper.model.states import OK


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    max_attempts: int = 3
    flap_start_percent: float = 30.0
    flap_stop_percent: float = 15.0


@dataclass(slots=True)
class AlertState:
    state: int = OK
    """The state of the latest result (STALE for a result without fresh data)."""
    hard: int = OK
    attempt: int = 1
    since: float = 0.0
    """When `state` was first seen."""
    hard_since: float = 0.0
    changes: int = 0
    """Bit i set: the result i checks ago changed the state (bit 0 is the newest)."""
    flapping: bool = False
    summary: str = ""

    @property
    def soft_problem(self) -> bool:
        return self.state != OK and self.state != self.hard


@dataclass(frozen=True, slots=True)
class Transition:
    kind: str
    """HARD (a new hard state), FLAPPING_START or FLAPPING_STOP."""
    previous: int
    state: int


@dataclass(slots=True)
class Tracked:
    """A service's alert state and what each rule has told (rule id -> (state, when))."""

    alert: AlertState
    notified: dict[int, tuple[int, float]]
    flap_told: list[int]

    def to_json(self) -> str:
        a = self.alert
        return json.dumps({"a": [a.state, a.hard, a.attempt, a.since, a.hard_since, a.changes, a.flapping,
                                 a.summary],
                           "n": {str(k): list(v) for k, v in self.notified.items()}, "f": self.flap_told},
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Tracked:
        data = json.loads(text)
        alert = AlertState(*data["a"])
        return cls(alert, {int(k): (int(v[0]), float(v[1])) for k, v in data["n"].items()},
                   [int(r) for r in data["f"]])
