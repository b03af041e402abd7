"""Rates, averages and forecasts over the value store that the engine keeps per service.

The value store is a plain dict of JSON values, persisted between cycles and across
restarts by the engine; plugins get it as a parameter, so tests pass a dict.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping

from watchkeeper.model.verdicts import JSONScalar

ValueStore = MutableMapping[str, list[JSONScalar] | JSONScalar]


def _finite(number: float) -> float | None:
    try:
        as_float = float(number)
    except (OverflowError, ValueError):
        return None
    return as_float if math.isfinite(as_float) else None


def _previous(store: ValueStore, key: str, now: float, value: float) -> tuple[float, float] | None:
    # isinstance with a tuple of types: `int | float` builds a union object on every call, and
    # rates are computed for every counter of every host cycle.
    last = store.get(key)
    store[key] = [now, value]
    if (
        isinstance(last, list)
        and len(last) == 2
        and isinstance(last[0], (int, float))
        and isinstance(last[1], (int, float))
    ):
        return float(last[0]), float(last[1])
    return None


def rate(store: ValueStore, key: str, now: float, value: float, wrap: int | None = None) -> float | None:
    """Per-second rate of a counter that only grows; None on a first sample, reset or wrap.

    A wrap looks like a reboot, so both wait one cycle rather than guess; unless `wrap` says
    where the counter wraps (2**32 for SNMP's 32-bit counters, which at 1 Gbit/s wrap every
    34 s): then a fall is counted as a wrap, and a restart must be told apart by the caller.
    """
    clock, number = _finite(now), _finite(value)
    if clock is None or number is None:  # a counter beyond any float: not a sample
        store.pop(key, None)
        return None
    previous = _previous(store, key, clock, number)
    if previous is None:
        return None
    then, old = previous
    elapsed = clock - then  # in floats: two huge clocks that differ may still be equal here
    if elapsed <= 0:
        return None
    if number < old:
        if wrap is None or not 0 <= old < wrap:
            return None
        return (number + wrap - old) / elapsed
    return (number - old) / elapsed


def derivative(store: ValueStore, key: str, now: float, value: float) -> float | None:
    """Per-second change of a gauge that may fall as well as rise (used bytes, a queue)."""
    clock, number = _finite(now), _finite(value)
    if clock is None or number is None:
        store.pop(key, None)
        return None
    previous = _previous(store, key, clock, number)
    if previous is None:
        return None
    then, old = previous
    elapsed = clock - then
    if elapsed <= 0:
        return None
    return (number - old) / elapsed


def average(store: ValueStore, key: str, now: float, value: float, horizon_s: float,
            initial: float | None = None) -> float:
    """Exponentially weighted average whose memory is `horizon_s` seconds of wall time.

    The weight of a sample grows with the time since the last one, so an irregular check
    interval does not skew the average. `initial` seeds the average (default: first value).
    """
    last = store.get(key)
    if isinstance(last, list) and len(last) == 2:
        then, avg = last
        if isinstance(then, (int, float)) and isinstance(avg, (int, float)):
            weight = 1.0 - math.exp(-max(now - then, 0.0) / horizon_s)
            new = avg + (value - avg) * weight
            store[key] = [now, new]
            return new
    start = value if initial is None else initial
    store[key] = [now, start]
    return start


def growth_rate(store: ValueStore, key: str, now: float, value: float, horizon_s: float) -> float | None:
    """Smoothed growth per second of a gauge, for forecasts; None until two samples exist.

    The average starts at zero growth and converges over `horizon_s`, so one burst of
    writes right after start-up does not predict a full disk in minutes.
    """
    change = derivative(store, f"{key}.last", now, value)
    if change is None:
        store.pop(f"{key}.avg", None)
        return None
    return average(store, f"{key}.avg", now, change, horizon_s, initial=0.0)


def seconds_until(remaining: float, rate_per_second: float | None) -> float | None:
    """Time until `remaining` is used up at `rate_per_second`; None when it is not being used up."""
    if rate_per_second is None or rate_per_second <= 0.0:
        return None
    return max(remaining, 0.0) / rate_per_second
