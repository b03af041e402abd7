"""When something that fills up will be full: smoothed growth and the time left, as results."""

from __future__ import annotations

from watchkeeper.checkapi import render
from watchkeeper.checkapi.counters import ValueStore, growth_rate, seconds_until
from watchkeeper.checkapi.levels import Fixed, check_levels
from watchkeeper.model.verdicts import CheckResult, Metric, Result, State

DAY = 86400.0


def check_time_until_full(
    store: ValueStore, now: float, used_bytes: float, free_bytes: float, *,
    horizon_s: float, levels: Fixed | None, metric_prefix: str, key: str = "used",
) -> CheckResult:
    """Growth per day and `full in` against lower `levels`; nothing until growth is known.

    Metrics: `<prefix>_growth_bytes_per_second` and `<prefix>_time_until_full_seconds`.
    `key` names the history in `store`, for a check that forecasts more than one thing.
    """
    growth = growth_rate(store, key, now, used_bytes, horizon_s)
    if growth is None:
        return
    yield Metric(f"{metric_prefix}_growth_bytes_per_second", growth)
    until_full = seconds_until(free_bytes, growth)
    if until_full is None:
        yield Result(State.OK, "", details=f"not growing ({render.bytes_(growth * DAY)}/day)")
        return
    yield Result(State.OK, f"growing {render.bytes_(growth * DAY)}/day")
    yield from check_levels(until_full, levels_lower=levels, metric_name=f"{metric_prefix}_time_until_full_seconds",
                            label="full in", render_func=render.timespan)
