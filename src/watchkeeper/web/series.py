"""Metric series for graphs and the API: ranges, coarser steps, and the line along which a
check's own trend is projected. Pure functions over stored points."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from watchkeeper.checkapi import render
from watchkeeper.model.verdicts import unit_of
from watchkeeper.store.database import MetricPoint

RANGES = {"4h": 4 * 3600.0, "25h": 25 * 3600.0, "8d": 8 * 86400.0, "1y": 365 * 86400.0}
GRAPH_POINTS = 720
"""Steps across a graph: about one per pixel column, so a year costs no more than four hours."""

CHECK_FORECASTS = ("_time_until_full_seconds", "_eta_seconds")
"""Metrics in which a check gives its own forecast (time until full, recovery or rebuild ETA)."""
GROWTH = "_growth_bytes_per_second"
"""A check's fitted trend (`checkapi/forecast.py`), projected on the graph of its `_used_bytes`."""


def downsample(points: Sequence[MetricPoint], step: float) -> list[MetricPoint]:
    """Points merged into `step`-wide buckets: the mean of the averages, the lowest low, the highest high."""
    merged: list[MetricPoint] = []
    bucket = math.nan
    total = lo = hi = 0.0
    n = 0
    for point in points:
        key = point.ts // step
        if key != bucket:
            if n:
                merged.append(MetricPoint(bucket * step, total / n, lo, hi))
            bucket, total, lo, hi, n = key, 0.0, math.inf, -math.inf, 0
        total += point.avg
        lo = min(lo, point.lo)
        hi = max(hi, point.hi)
        n += 1
    if n:
        merged.append(MetricPoint(bucket * step, total / n, lo, hi))
    return merged


@dataclass(frozen=True, slots=True)
class Trend:
    slope: float
    """Change per second."""
    intercept: float

    def at(self, ts: float) -> float:
        return self.intercept + self.slope * ts

    def reaches(self, level: float, after: float) -> float | None:
        """When the line crosses `level`, if it is heading there and is not there yet at `after`."""
        now = self.at(after)
        if self.slope == 0 or (level - now) / self.slope <= 0:
            return None
        return after + (level - now) / self.slope


def render_value(metric: str, value: float) -> str:
    unit = unit_of(metric)
    if unit == "B":
        return render.bytes_(value)
    if unit == "B/s":
        return render.bytes_per_second(value)
    if unit == "s":
        return render.timespan(value) if abs(value) >= 1 else render.milliseconds(value)
    if unit == "%":
        return render.percent(value)
    return f"{value:.4g}{unit}"


def check_forecast(metric: str, value: float) -> str | None:
    """The check's own forecast in words, for metrics that carry one."""
    if metric.endswith("_time_until_full_seconds"):
        return f"full in {render.timespan(value)} (the check's forecast from recent growth)"
    if metric.endswith("_eta_seconds"):
        return f"done in about {render.timespan(value)} (the check's estimate)"
    return None
