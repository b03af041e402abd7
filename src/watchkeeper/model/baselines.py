"""Learned baselines: what a metric usually is at this hour of the week, and levels against it.

A baseline rule names a metric of the services of matching hosts (globs, labels). Each hour,
for each series it matches, the 5-minute averages of the last `weeks` weeks (the 1-hour tier
beyond the 60 days the 5-minute tier keeps) are grouped by hour of the week, and each hour gets
a robust centre and spread: the median, and 1.4826 times the median absolute deviation (a
standard deviation for normal data that a few spikes cannot move). The peak is the highest
value of the range.

Levels: `spreads` (warn, crit): more than that many spreads above the centre for this hour;
`above_peak_percent` (warn, crit): that far above the peak of the range ("values derived from
peak loads for busy systems"). Nothing is judged before `min_weeks` of history exist, and the
service says so. Hours of the week are this machine's local hours at the time of computing
(so office hours stay office hours; across a change of daylight saving time the band is an
hour off until it is computed again, within the hour).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.errors import ConfigError

HOURS = 168
WEEK = 7 * 86400.0
MAD_TO_SIGMA = 1.4826
MIN_SAMPLES_PER_HOUR = 3
"""An hour of the week with fewer values than this gets no band (it is not judged)."""
RELATIVE_FLOOR = 0.01
"""The spread is at least this part of the centre: a metric that never moved would otherwise
make any change "infinitely many spreads" away."""


@dataclass(frozen=True, slots=True)
class BaselineRule:
    id: int
    metric: str
    host_glob: str = "*"
    service_glob: str = "*"
    host_labels: dict[str, str] = field(default_factory=dict)
    spreads: tuple[float, float] | None = (3.0, 5.0)
    above_peak_percent: tuple[float, float] | None = None
    weeks: int = 4
    min_weeks: float = 2.0
    comment: str = ""

    def __post_init__(self) -> None:
        if not self.metric or len(self.metric) > 200:
            raise ConfigError("a baseline rule names a metric (e.g. cpu_percent, load1)")
        for name, levels in (("spreads", self.spreads), ("above_peak_percent", self.above_peak_percent)):
            if levels is not None and not (len(levels) == 2 and all(isinstance(v, (int, float)) and math.isfinite(v)
                                                                    and v >= 0 for v in levels)
                                           and levels[0] <= levels[1]):
                raise ConfigError(f"baseline {name} must be two numbers, warn <= crit, e.g. [3, 5]")
        if self.spreads is None and self.above_peak_percent is None:
            raise ConfigError("a baseline rule needs levels: spreads, above_peak_percent or both")
        if not 1 <= self.weeks <= 104:
            raise ConfigError("baseline weeks must be from 1 to 104")
        if not 0 <= self.min_weeks <= self.weeks:
            raise ConfigError("baseline min_weeks must be from 0 to weeks")

    def matches(self, host: str, service: str, metric: str, labels: Mapping[str, str]) -> bool:
        return (metric == self.metric and fnmatch.fnmatchcase(host, self.host_glob)
                and fnmatch.fnmatchcase(service, self.service_glob)
                and all(labels.get(key) == value for key, value in self.host_labels.items()))

    def settings(self) -> dict[str, Any]:
        return {"metric": self.metric, "host_glob": self.host_glob, "service_glob": self.service_glob,
                "host_labels": self.host_labels, "spreads": self.spreads,
                "above_peak_percent": self.above_peak_percent, "weeks": self.weeks, "min_weeks": self.min_weeks,
                "comment": self.comment}

    @classmethod
    def from_settings(cls, rule_id: int, settings: Mapping[str, Any]) -> BaselineRule:
        values = dict(settings)
        for key in ("spreads", "above_peak_percent"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        try:
            return cls(rule_id, **values)
        except TypeError as exc:
            raise ConfigError(f"baseline rule {rule_id}: {exc}") from None


Hour = tuple[float, float, float]
"""One hour of the week: (centre, spread, highest value)."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """One series' baseline, with the levels of the rule it was computed for."""

    rule: BaselineRule
    hours: tuple[Hour | None, ...]
    """Per hour of the week (0: Monday 00:00-01:00 local time), or None without enough values."""
    first: float | None
    """The oldest value it learned from."""
    computed: float
    utc_offset_s: float
    """This machine's offset from UTC when computed: local hours of the week."""

    @property
    def history_s(self) -> float:
        """How far back the series' data goes (at most the rule's weeks)."""
        return 0.0 if self.first is None else min(max(0.0, self.computed - self.first), self.rule.weeks * WEEK)

    @property
    def peak(self) -> float | None:
        return max((hour[2] for hour in self.hours if hour is not None), default=None)

    @property
    def active(self) -> bool:
        return self.history_s >= self.rule.min_weeks * WEEK

    def band(self, ts: float) -> tuple[float, float] | None:
        hour = self.hours[hour_of_week(ts, self.utc_offset_s)]
        return None if hour is None else (hour[0], hour[1])

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule.id, "rule_settings": self.rule.settings(), "hours": list(self.hours),
                "first": self.first, "computed": self.computed, "utc_offset_s": self.utc_offset_s}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Baseline:
        hours = tuple((float(h[0]), float(h[1]), float(h[2])) if h is not None else None for h in data["hours"])
        if len(hours) != HOURS:
            raise ValueError(f"a baseline of {len(hours)} hours")
        first = data["first"]
        return cls(BaselineRule.from_settings(int(data["rule"]), data["rule_settings"]), hours,
                   float(first) if first is not None else None, float(data["computed"]), float(data["utc_offset_s"]))


def hour_of_week(ts: float, utc_offset_s: float) -> int:
    """0 for Monday 00:00-00:59 local time (1970-01-01 was a Thursday: three days in)."""
    return int((ts + utc_offset_s) // 3600 + 72) % HOURS


def compute(rule: BaselineRule, points: Iterable[tuple[float, float, float]], now: float,
            utc_offset_s: float) -> Baseline:
    """`points`: (timestamp, average, highest) of each bucket, oldest first, over the rule's weeks."""
    averages, highest, first = _group(rule, points, now, utc_offset_s)
    return Baseline(rule, tuple(_hour(values, top) for values, top in zip(averages, highest, strict=True)), first,
                    now, utc_offset_s)


def update(baseline: Baseline, hours: Iterable[int], points: Iterable[tuple[float, float, float]],
           now: float) -> Baseline:
    """The same baseline with `hours` (of the week) learned again from `points`, which hold those
    hours' values over the rule's weeks, oldest first: what an hourly run needs, not all 168
    hours' data."""
    averages, highest, first = _group(baseline.rule, points, now, baseline.utc_offset_s)
    learned = list(baseline.hours)
    for hour in hours:
        learned[hour] = _hour(averages[hour], highest[hour])
    oldest = min((ts for ts in (baseline.first, first) if ts is not None), default=None)
    return Baseline(baseline.rule, tuple(learned), oldest, now, baseline.utc_offset_s)


def _group(rule: BaselineRule, points: Iterable[tuple[float, float, float]], now: float,
           utc_offset_s: float) -> tuple[list[list[float]], list[float], float | None]:
    """Each hour of the week's averages and highest value, and the oldest time (the points
    are oldest first). Written out in one loop: it runs for every value of every series."""
    averages: list[list[float]] = [[] for _ in range(HOURS)]
    highest = [-math.inf] * HOURS
    first: float | None = None
    since = now - rule.weeks * WEEK
    isfinite = math.isfinite
    for ts, average, high in points:
        if ts < since or not isfinite(average):
            continue
        if first is None:
            first = ts
        hour = int((ts + utc_offset_s) // 3600 + 72) % HOURS
        averages[hour].append(average)
        top = high if isfinite(high) else average
        if top > highest[hour]:
            highest[hour] = top
    return averages, highest, first


def _hour(averages: list[float], highest: float) -> Hour | None:
    if len(averages) < MIN_SAMPLES_PER_HOUR:
        return None
    averages.sort()
    centre = _median_sorted(averages)
    deviations = sorted([abs(value - centre) for value in averages])
    spread = MAD_TO_SIGMA * _median_sorted(deviations)
    return centre, max(spread, RELATIVE_FLOOR * abs(centre), 1e-12), highest


def _median_sorted(values: list[float]) -> float:
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


@dataclass(frozen=True, slots=True)
class Verdict:
    state: int
    text: str
    band: tuple[float, float] | None = None


def judge(baseline: Baseline, value: float, ts: float, render: Any = None) -> Verdict:
    """How `value` at `ts` stands against its baseline. `render` formats a value (the metric's unit)."""
    show = render or (lambda number: f"{number:.4g}")
    rule = baseline.rule
    if not baseline.active:
        days = baseline.history_s / 86400
        return Verdict(0, f"baseline after {rule.min_weeks:g} weeks of data (has {days:.1f} d)")
    state = 0
    parts = []
    band = baseline.band(ts)
    if rule.spreads is not None:
        if band is None:
            parts.append("no baseline for this hour of the week yet")
        else:
            centre, spread = band
            away = (value - centre) / spread
            level = 2 if away > rule.spreads[1] else 1 if away > rule.spreads[0] else 0
            state = max(state, level)
            parts.append(f"baseline {show(centre)} ± {show(spread)}, {away:+.1f} spreads"
                         + (f" (warn/crit above {rule.spreads[0]:g}/{rule.spreads[1]:g})" if level else ""))
    if rule.above_peak_percent is not None and baseline.peak is not None and baseline.peak > 0:
        over = 100.0 * (value - baseline.peak) / baseline.peak
        level = 2 if over > rule.above_peak_percent[1] else 1 if over > rule.above_peak_percent[0] else 0
        state = max(state, level)
        if level or over > 0:
            parts.append(f"{over:.0f}% above the peak of {rule.weeks} weeks ({show(baseline.peak)})"
                         + (f" (warn/crit above {rule.above_peak_percent[0]:g}%/{rule.above_peak_percent[1]:g}%)"
                            if level else ""))
        else:
            parts.append(f"peak of {rule.weeks} weeks {show(baseline.peak)}")
    return Verdict(state, ", ".join(parts), band)
