"""When something that fills up will be full: a robust trend over the trend range, and the time
left, as results; never a verdict from a few minutes of data or from noise.

Each check keeps its own history in its value store: the mean of each half hour over the trend
range (default 24 hours, as users know it from Checkmk; the callers' `horizon_s`). When a half
hour closes, the trend is fitted again (Theil–Sen: the median of the slopes between every two
half hours, so a burst of writes moves it no more than any one pair), with how sure it is: the
share of those slopes that agree with the median's direction (1.0 for a steady fill, about 0.5
for noise), and whether the older and the newer half of the data each go the same way (a
single burst of writes between two flat stretches is a step, not a trend). Until the data span
`min_span_s` (6 hours, or a quarter of a shorter range) the check only says when it will
forecast; a fit that is not sure is told but never judged. The graph's projection is drawn
from the same fit (the `_growth_bytes_per_second` metric it yields), so a page shows one answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import render
from watchkeeper.checkapi.counters import ValueStore, seconds_until
from watchkeeper.checkapi.levels import Fixed, check_levels
from watchkeeper.model.verdicts import CheckResult, Metric, Result, State

DAY = 86400.0
BUCKET_S = 1800.0
"""The trend's resolution: a half hour, 48 values over a day in the value store."""
MIN_SPAN_S = 6 * 3600.0
SURE = 0.75
"""The share of pairwise slopes that must agree with the fit before its time until full is judged."""


@dataclass(frozen=True, slots=True)
class Fit:
    slope: float
    """Change per second (Theil–Sen)."""
    confidence: float
    """Share of the pairwise slopes on the median's side (0.5: noise; 1.0: every pair agrees)."""
    span_s: float
    """Time between the first and the last half hour fitted."""
    halves_agree: bool = True
    """The older and the newer half of the points each have a slope of the fit's sign."""

    @property
    def sure(self) -> bool:
        return self.confidence >= SURE and self.halves_agree and self.slope != 0


def theil_sen(points: list[tuple[float, float]]) -> Fit | None:
    """The median slope of every two points, and how many slopes agree with it; None below
    three points. Quadratic, for the few dozen half hours of a trend range."""
    if len(points) < 3:
        return None
    slopes = sorted((v2 - v1) / (t2 - t1) for index, (t1, v1) in enumerate(points)
                    for t2, v2 in points[index + 1:] if t2 > t1)
    if not slopes:
        return None
    middle = len(slopes) // 2
    slope = slopes[middle] if len(slopes) % 2 else (slopes[middle - 1] + slopes[middle]) / 2
    if slope > 0:
        agree = sum(1 for one in slopes if one > 0) + 0.5 * sum(1 for one in slopes if one == 0)
    elif slope < 0:
        agree = sum(1 for one in slopes if one < 0) + 0.5 * sum(1 for one in slopes if one == 0)
    else:
        agree = sum(1 for one in slopes if one == 0)
    return Fit(slope, agree / len(slopes), points[-1][0] - points[0][0])


def _history(store: ValueStore, key: str, now: float, value: float, range_s: float) -> tuple[bool, list[float | None],
                                                                                             int]:
    """Add `value` to its half hour; returns (a half hour closed, the means, the first half hour's index)."""
    bucket = int(now // BUCKET_S)
    kept = store.get(f"{key}.trend")  # [first half hour, samples in the newest, mean, mean, ...]
    first, count = bucket, 0
    means: list[float | None] = []
    if isinstance(kept, list) and len(kept) >= 2 and type(kept[0]) is int and type(kept[1]) is int \
            and kept[0] <= bucket:
        first, count = kept[0], kept[1]
        means = [float(m) if isinstance(m, (int, float)) and not isinstance(m, bool) else None for m in kept[2:]]
    index = bucket - first
    closed = index >= len(means) and bool(means)
    if index >= len(means):
        means.extend([None] * (index - len(means) + 1))
        count = 0
    current = means[index]
    means[index] = value if current is None or count <= 0 else current + (value - current) / (count + 1)
    count = count + 1 if current is not None else 1
    keep = int(range_s // BUCKET_S) + 1
    if len(means) > keep:
        first += len(means) - keep
        means = means[-keep:]
    while means and means[0] is None:
        first += 1
        means.pop(0)
    store[f"{key}.trend"] = [first, count, *means]
    return closed, means, first


def fit_trend(store: ValueStore, key: str, now: float, value: float, range_s: float) -> Fit | None:
    """The trend of the closed half hours of the range, refitted when one closes (kept between)."""
    closed, means, first = _history(store, key, now, value, range_s)
    cached = store.get(f"{key}.fit")
    if not closed and isinstance(cached, list) and len(cached) == 4:
        slope, confidence, span, agree = cached
        if isinstance(slope, (int, float)) and isinstance(confidence, (int, float)) and isinstance(span, (int, float)):
            return Fit(float(slope), float(confidence), float(span), agree == 1)
    points = [((first + index) * BUCKET_S, mean) for index, mean in enumerate(means[:-1]) if mean is not None]
    fit = theil_sen(points)
    if fit is None:
        store.pop(f"{key}.fit", None)
        return None
    older, newer = theil_sen(points[:len(points) // 2]), theil_sen(points[len(points) // 2:])
    agree = older is not None and newer is not None and older.slope * fit.slope > 0 and newer.slope * fit.slope > 0
    store[f"{key}.fit"] = [fit.slope, fit.confidence, fit.span_s, int(agree)]
    return Fit(fit.slope, fit.confidence, fit.span_s, agree)


def check_time_until_full(
    store: ValueStore, now: float, used_bytes: float, free_bytes: float, *,
    horizon_s: float, levels: Fixed | None, metric_prefix: str, key: str = "used", min_span_s: float | None = None,
) -> CheckResult:
    """Growth per day over the trend range `horizon_s` and `full in` against lower `levels`.

    Metrics: `<prefix>_growth_bytes_per_second` and `<prefix>_time_until_full_seconds`, once the
    trend is sure. `key` names the history in `store`, for a check that forecasts more than one thing.
    """
    wait = min(MIN_SPAN_S, horizon_s / 4) if min_span_s is None else min_span_s
    fit = fit_trend(store, key, now, used_bytes, horizon_s)
    if fit is None or fit.span_s < wait:
        so_far = fit.span_s if fit is not None else 0.0
        what = "forecast" if key == "used" else f"{key} forecast"
        yield Result(State.OK, f"{what} after {render.timespan(wait)} of data",
                     details=f"The trend is fitted over {render.timespan(horizon_s)} of half-hour means "
                     f"({render.timespan(so_far)} of them so far).")
        return
    yield Metric(f"{metric_prefix}_growth_bytes_per_second", fit.slope)
    per_day = render.bytes_(abs(fit.slope) * DAY)
    if not fit.sure:
        yield Result(State.OK, f"no clear trend ({'+' if fit.slope >= 0 else '-'}{per_day}/day, "
                     f"{fit.confidence:.0%} of the data agree)",
                     details="Time until full is judged once the trend is steady: most of the data, and the "
                     "older and the newer half each, going the same way.")
        return
    until_full = seconds_until(free_bytes, fit.slope)
    if until_full is None:
        yield Result(State.OK, "", details=f"not growing ({'-' if fit.slope < 0 else ''}{per_day}/day)")
        return
    yield Result(State.OK, f"growing {per_day}/day")
    yield from check_levels(until_full, levels_lower=levels, metric_name=f"{metric_prefix}_time_until_full_seconds",
                            label="full in", render_func=render.timespan)
