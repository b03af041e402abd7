"""A metric graph as inline SVG, drawn on the server.

Written here rather than taken from a charting library: a graph is one path, a band, two
level lines and a dashed projection, which SVG says directly; the page needs no script to
show it, there is no asset to vendor, and a year of data costs the same 720 steps as four
hours.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from watchkeeper.checkapi import render
from watchkeeper.model.baselines import Baseline
from watchkeeper.store.database import HistoryRow, MetricPoint
from watchkeeper.web.series import Trend, render_value

WIDTH, HEIGHT = 760, 200
LEFT, RIGHT, TOP, BOTTOM = 76, 12, 10, 22
PROJECTION = 0.25
"""The forecast extends the graph by a quarter of its range."""


@dataclass(frozen=True, slots=True)
class Graph:
    metric: str
    svg: str
    points: int
    latest: str
    forecast: str
    """The projection in words: where the trend is heading and when it meets a level."""


def _ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    return [lo + (hi - lo) * i / count for i in range(count + 1)]


def _time_label(ts: float, span: float) -> str:
    fmt = "%H:%M" if span <= 2 * 86400 else "%a %d" if span <= 31 * 86400 else "%b %Y"
    return time.strftime(fmt, time.localtime(ts))


def forecast_words(metric: str, line: Trend | None, end: float, levels: tuple[float | None, float | None]) -> str:
    """The check's trend in words: its growth per day and when it meets a level; "" without one."""
    if line is None:
        return ""
    per_day = line.slope * 86400
    words = f"the check's trend: {'+' if per_day >= 0 else '-'}{render_value(metric, abs(per_day))} per day"
    now = line.at(end)
    warn, crit = levels
    lower = warn is not None and crit is not None and crit < warn  # e.g. time until full: less is worse
    for name, level in (("CRIT", crit), ("WARN", warn)):
        if level is None:
            continue
        if (now <= level) if lower else (now >= level):
            return words + f"; already past {name} ({render_value(metric, level)})"
        when = line.reaches(level, end)
        if when is not None:
            return words + f"; at this rate it reaches {name} ({render_value(metric, level)}) in " \
                           f"{render.timespan(when - end)}"
    return words + ("; no level in its way" if any(v is not None for v in levels) else "")


def baseline_band(baseline: Baseline, start: float, end: float) -> list[tuple[float, float, float]]:
    """(time, low, high) at each hour in the range: the centre for that hour of the week, give or
    take the spreads at which it warns (one spread when it has no such level)."""
    width = baseline.rule.spreads[0] if baseline.rule.spreads else 1.0
    corners: list[tuple[float, float, float]] = []
    hour = start - start % 3600
    while hour < end and len(corners) < 20_000:
        band = baseline.band(hour)
        if band is not None:
            centre, spread = band
            for ts in (max(hour, start), min(hour + 3600, end)):
                corners.append((ts, centre - width * spread, centre + width * spread))
        hour += 3600
    return corners


def draw(metric: str, points: Sequence[MetricPoint], start: float, end: float, step: float,
         levels: tuple[float | None, float | None] = (None, None), baseline: Baseline | None = None,
         growth: float | None = None) -> Graph:
    """`growth`: the check's own trend for this metric, per second (its `_growth_bytes_per_second`),
    drawn as the projection from the newest point. No other metric gets a projection: a straight
    line through any metric forecasts nonsense (CPU below zero, memory at 993 %), and a page must
    not show a second answer beside the check's."""
    line = Trend(growth, points[-1].avg - growth * points[-1].ts) if growth is not None and points else None
    until = end + (end - start) * PROJECTION if line is not None else end
    expected = baseline_band(baseline, start, end) if baseline is not None and baseline.active else []
    values = [p.lo for p in points] + [p.hi for p in points] + [v for v in levels if v is not None]
    values += [low for _, low, _ in expected] + [high for _, _, high in expected]
    if line is not None and points:
        values.append(line.at(until))  # the projection stays on the graph
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if lo > 0 and lo < hi * 0.5:
        lo = 0.0  # anchor at zero unless the data sit far above it
    if hi == lo:
        hi, lo = hi + (abs(hi) or 1.0) * 0.5, lo - (abs(lo) or 1.0) * 0.5
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(ts: float) -> float:
        return LEFT + (ts - start) / (until - start) * plot_w

    def y(value: float) -> float:
        return TOP + (hi - value) / (hi - lo) * plot_h

    parts = [f'<svg class="graph" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(metric)}" '
             f'data-metric="{escape(metric)}" data-points="{len(points)}">',
             f'<defs><clipPath id="clip-{id(points)}"><rect x="{LEFT}" y="{TOP}" width="{plot_w}" '
             f'height="{plot_h}"/></clipPath></defs>',
             f'<rect class="plot" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>']
    for value in _ticks(lo, hi):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
                     f'<text class="tick" x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">'
                     f'{escape(render_value(metric, value))}</text>')
    for index, ts in enumerate(_ticks(start, until)):
        anchor = "start" if index == 0 else "end" if index == 4 else "middle"
        parts.append(f'<text class="tick" x="{x(ts):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
                     f'{escape(_time_label(ts, until - start))}</text>')
    clip = f'clip-path="url(#clip-{id(points)})"'
    if expected:
        corners = [f"{x(ts):.1f},{y(high):.1f}" for ts, _, high in expected] + \
                  [f"{x(ts):.1f},{y(low):.1f}" for ts, low, _ in reversed(expected)]
        parts.append(f'<polygon class="baseline" points="{" ".join(corners)}" {clip}>'
                     "<title>learned baseline for each hour of the week</title></polygon>")
    if points:
        path = []
        previous = None
        # A gap is a pause much longer than the usual spacing: hosts checked every 5 minutes leave
        # 1-minute slots empty without any gap in their data.
        spacings = sorted(b.ts - a.ts for a, b in zip(points, points[1:], strict=False))
        usual = spacings[len(spacings) // 2] if spacings else step
        for point in points:
            gap = previous is None or point.ts - previous > 2.5 * max(step, usual)
            path.append(f"{'M' if gap else 'L'}{x(point.ts):.1f},{y(point.avg):.1f}")
            previous = point.ts
        band = [f"{x(p.ts):.1f},{y(p.hi):.1f}" for p in points] + \
               [f"{x(p.ts):.1f},{y(p.lo):.1f}" for p in reversed(points)]
        parts.append(f'<polygon class="band" points="{" ".join(band)}" {clip}/>')
        parts.append(f'<path class="line" d="{"".join(path)}" {clip}/>')
    for name, level in (("warn", levels[0]), ("crit", levels[1])):
        if level is not None:
            parts.append(f'<line class="level {name}" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(level):.1f}" '
                         f'y2="{y(level):.1f}"/><text class="level-label {name}" x="{WIDTH - RIGHT - 4}" '
                         f'y="{y(level) - 3:.1f}" text-anchor="end">{name.upper()} '
                         f'{escape(render_value(metric, level))}</text>')
    if line is not None:
        parts.append(f'<line class="now" x1="{x(end):.1f}" x2="{x(end):.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>')
        parts.append(f'<line class="forecast" x1="{x(end):.1f}" y1="{y(line.at(end)):.1f}" x2="{x(until):.1f}" '
                     f'y2="{y(line.at(until)):.1f}" {clip}/>')
    if not points:
        parts.append(f'<text class="empty" x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle">'
                     "no data in this range</text>")
    parts.append("</svg>")
    latest = render_value(metric, points[-1].avg) if points else "-"
    return Graph(metric, "".join(parts), len(points), latest, forecast_words(metric, line, end, levels))


STATE_CLASSES = {-1: "pending", 0: "ok", 1: "warn", 2: "crit", 3: "unknown"}


def timeline(history: Sequence[HistoryRow], start: float, end: float) -> str:
    """The state over the range as a coloured strip; `history` is newest first, as the store gives it."""
    width, height = WIDTH - LEFT - RIGHT, 14
    changes = sorted(history, key=lambda row: row.ts)
    before = [row for row in changes if row.ts <= start]
    segments: list[tuple[float, float, HistoryRow]] = []
    current = before[-1] if before else None
    since = start
    for row in changes:
        if row.ts <= start:
            continue
        if row.ts >= end:
            break
        if current is not None:
            segments.append((since, row.ts, current))
        current, since = row, row.ts
    if current is not None:
        segments.append((since, end, current))
    parts = [f'<svg class="timeline" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
             'aria-label="state over time">']
    for first, last, row in segments:
        x = (first - start) / (end - start) * width
        w = max((last - first) / (end - start) * width, 0.5)
        state = STATE_CLASSES.get(row.state, "unknown") + (" stale" if row.stale else "")
        parts.append(f'<rect class="state-{state}" x="{x:.1f}" y="0" width="{w:.1f}" height="{height}">'
                     f'<title>{escape(render.datetime(first))}: {escape(row.summary)}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)
