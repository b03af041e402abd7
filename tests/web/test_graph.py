"""Graph arithmetic: merging points, the check's trend projected, the forecast's words, the drawn SVG."""

from __future__ import annotations

import re

from watchkeeper.store.database import HistoryRow, MetricPoint
from watchkeeper.web.graph import draw, forecast_words, timeline
from watchkeeper.web.series import Trend, downsample

DAY = 86400.0


def test_downsampling_keeps_the_mean_the_lowest_and_the_highest() -> None:
    points = [MetricPoint(t * 60.0, v, v - 1, v + 1) for t, v in enumerate([1.0, 2.0, 3.0, 10.0, 20.0, 30.0])]
    assert downsample(points, 180.0) == [MetricPoint(0.0, 2.0, 0.0, 4.0), MetricPoint(180.0, 20.0, 9.0, 31.0)]


def test_a_line_says_when_it_reaches_a_level_ahead_of_it() -> None:
    line = Trend(slope=1.0 / 3600, intercept=50.0)
    reached = line.reaches(69.0, 9 * 3600.0)
    assert reached is not None and abs(reached - 19 * 3600.0) < 1e-6
    assert line.reaches(40.0, 9 * 3600.0) is None  # behind it, not ahead


def test_the_forecast_says_when_the_crit_level_is_reached_or_that_it_is_already_past() -> None:
    rising = Trend(slope=10.0 / DAY, intercept=0.0)
    assert forecast_words("fs_used_percent", rising, 5 * DAY, (80.0, 90.0)).endswith(
        "reaches CRIT (90.00%) in 4 days")
    assert "already past CRIT" in forecast_words("fs_used_percent", rising, 9.5 * DAY, (80.0, 90.0))
    falling_time_left = Trend(slope=-0.5, intercept=30 * DAY)  # less is worse: crit below warn
    assert forecast_words("x_time_until_full_seconds", falling_time_left, 0.0, (7 * DAY, DAY)).endswith(
        "reaches CRIT (1 day) in 58 days")
    assert forecast_words("x_time_until_full_seconds", falling_time_left, 50 * DAY, (7 * DAY, DAY)).endswith(
        "reaches CRIT (1 day) in 8 days")  # already below WARN: what matters is when CRIT comes
    assert "already past CRIT" in forecast_words("x_time_until_full_seconds", falling_time_left, 60 * DAY,
                                                 (7 * DAY, DAY))
    assert forecast_words("load1", None, 0.0, (None, None)) == ""


def test_the_graph_draws_the_line_levels_and_projection_inside_its_area() -> None:
    points = [MetricPoint(t * 300.0, 50.0 + t, 49.0 + t, 51.0 + t) for t in range(48)]
    graph = draw("fs_used_percent", points, 0.0, 4 * 3600.0, 60.0, (80.0, 90.0))
    assert graph.points == 48 and graph.latest == "97.00%"
    path = re.search(r'class="line" d="([^"]+)"', graph.svg)
    assert path and path[1].count("M") == 1 and path[1].count("L") == 47  # 5-minute data has no gaps
    coordinates = [float(v) for v in re.findall(r"[ML]([\d.]+),([\d.]+)", path[1])[0]]
    assert 76 <= coordinates[0] <= 760
    assert 'class="level warn"' in graph.svg and 'class="level crit"' in graph.svg
    assert 'class="forecast"' not in graph.svg and graph.forecast == ""  # no check's trend: no projection


def test_only_the_checks_own_trend_is_projected_and_from_the_newest_point() -> None:
    # CPU rising over four hours: a straight line through it would run past 100 %; no projection
    rising = [MetricPoint(t * 300.0, 10.0 + 2 * t, 10.0 + 2 * t, 10.0 + 2 * t) for t in range(48)]
    assert 'class="forecast"' not in draw("cpu_user_percent", rising, 0.0, 4 * 3600.0, 60.0).svg
    used = [MetricPoint(t * 300.0, 40e9 + t * 1e6, 40e9, 40e9) for t in range(48)]
    graph = draw("fs_used_bytes", used, 0.0, 4 * 3600.0, 60.0, growth=1e9 / 86400)
    assert 'class="forecast"' in graph.svg
    assert graph.forecast == "the check's trend: +953.67 MiB per day"


def test_a_pause_in_the_data_breaks_the_line() -> None:
    points = [MetricPoint(t * 60.0, 1.0, 1.0, 1.0) for t in (*range(10), *range(100, 110))]
    path = re.search(r'class="line" d="([^"]+)"', draw("load1", points, 0.0, 7200.0, 60.0).svg)
    assert path and path[1].count("M") == 2


def test_the_timeline_colours_each_state_for_as_long_as_it_lasted() -> None:
    history = [HistoryRow(3000.0, 2, False, "<b>down</b>"), HistoryRow(500.0, 0, False, "fine")]
    svg = timeline(history, 1000.0, 5000.0)
    widths = {cls: float(w) for cls, w in re.findall(r'class="state-(\w+)" x="[\d.]+" y="0" width="([\d.]+)"', svg)}
    assert widths["ok"] == widths["crit"]  # 2000 s each
    assert "&lt;b&gt;down&lt;/b&gt;" in svg and "<b>" not in svg
