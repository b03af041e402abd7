"""How fast a count of chunks lacking copies falls, and when it will reach zero.

After a failure the master finds the affected chunks while its chunk loop walks the
metadata, so the count first rises for up to one loop, then falls as replication catches
up. A rate taken while it still rises would promise a bogus ETA; this says which phase
the count is in and gives an ETA only once it falls. Shared by replication and drain.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from watchkeeper.checkapi import ValueStore, average, render


class Phase(Enum):
    CLEAN = "clean"
    FIRST = "first"
    """First sample of this count: no rate yet."""
    RISING = "rising"
    STALLED = "stalled"
    FALLING = "falling"


@dataclass(frozen=True, slots=True)
class Recovery:
    phase: Phase
    change_per_second: float = 0.0
    """Raw change since the previous check (negative while recovering)."""
    rate_per_second: float = 0.0
    """Smoothed fall per second, positive, while FALLING."""
    eta_seconds: float | None = None
    since_seconds: float | None = None
    """Time since the count last was zero (how long redundancy has been reduced)."""

    def describe(self, what: str) -> str:
        per_minute = abs(self.change_per_second) * 60.0
        if self.phase is Phase.FIRST:
            return f"rate of {what} known after the next check"
        if self.phase is Phase.RISING:
            return (f"{what} still rising (+{render.count(per_minute)}/min): the master is still "
                    "finding affected chunks, no ETA yet")
        if self.phase is Phase.STALLED:
            return f"{what} not falling since the last check (replication paused, throttled or blocked)"
        if self.phase is Phase.FALLING and self.eta_seconds is not None:
            return (f"falling {render.count(self.rate_per_second * 60.0)}/min, "
                    f"done in about {render.timespan(self.eta_seconds)}")
        return ""


def track(store: ValueStore, key: str, now: float, count: int, horizon_s: float = 600.0) -> Recovery:
    """Update `key`'s history with `count` and say where the recovery stands."""
    last = store.get(key)
    started = store.get(f"{key}.since")
    if count <= 0:
        store[key] = [now, 0]
        store.pop(f"{key}.rate", None)
        store.pop(f"{key}.since", None)
        return Recovery(Phase.CLEAN)
    if not isinstance(started, (int, float)):
        started = now if not _was_positive(last) else _time_of(last, now)
        store[f"{key}.since"] = started
    since = max(now - float(started), 0.0)
    store[key] = [now, count]
    if not (isinstance(last, list) and len(last) == 2
            and isinstance(last[0], (int, float)) and isinstance(last[1], (int, float))) or now <= last[0]:
        return Recovery(Phase.FIRST, since_seconds=since)
    then, before = float(last[0]), float(last[1])
    change = (count - before) / (now - then)
    if change > 0:
        store.pop(f"{key}.rate", None)  # a new wave of failures: forget the old pace
        return Recovery(Phase.RISING, change, since_seconds=since)
    if change == 0:
        return Recovery(Phase.STALLED, 0.0, since_seconds=since)
    previous_rate = store.get(f"{key}.rate")
    initial = None if isinstance(previous_rate, list) else -change
    pace = average(store, f"{key}.rate", now, -change, horizon_s, initial=initial)
    return Recovery(Phase.FALLING, change, pace, count / pace if pace > 0 else None, since)


def _was_positive(last: object) -> bool:
    return isinstance(last, list) and len(last) == 2 and isinstance(last[1], (int, float)) and last[1] > 0


def _time_of(last: object, default: float) -> float:
    if isinstance(last, list) and len(last) == 2 and isinstance(last[0], (int, float)):
        return float(last[0])
    return default
