"""Learned baselines: per hour of the week a robust centre and spread counted by hand; levels
in spreads and above the peak; nothing judged before enough history, and the service says so;
computed from the store's 5-minute tier and judged in a real agent's cycle through the
scheduler; any values at all (NaN, infinities, huge numbers) computed without a crash."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import agent_output
from watchkeeper.cli.main import main
from watchkeeper.model.baselines import WEEK, BaselineRule, compute, hour_of_week, judge
from watchkeeper.model.hosts import HostConfig
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store import metric_history
from watchkeeper.store.baseline_tables import BaselineTables
from watchkeeper.store.database import Store

MONDAY = 1_795_996_800.0
"""2026-11-30 00:00 UTC, a Monday."""
RULE = BaselineRule(1, "load1", spreads=(3.0, 5.0), above_peak_percent=(10.0, 50.0), weeks=4, min_weeks=2)


def test_monday_midnight_is_hour_zero_of_the_week() -> None:
    assert hour_of_week(MONDAY, 0) == 0 and hour_of_week(MONDAY + 3600 * 25, 0) == 25
    assert hour_of_week(MONDAY, 3600) == 1  # an hour east of UTC, it is 01:00 there
    assert hour_of_week(MONDAY - 1, 0) == 167


def test_each_hour_gets_the_median_and_1_4826_times_the_median_deviation() -> None:
    now = MONDAY + 4 * WEEK
    # Monday 09:00 in each of 4 weeks, three 5-minute values each: 1, 2, 3 plus a spike of 40 in week 2
    points = [(MONDAY + week * WEEK + 9 * 3600 + n * 300, value, value)
              for week in range(4) for n, value in enumerate((1.0, 2.0, 40.0 if week == 1 else 3.0))]
    baseline = compute(RULE, points, now, 0)
    centre, spread, highest = baseline.hours[9]  # type: ignore[misc]
    # the 12 values sorted: 1 1 1 1 2 2 2 2 3 3 3 40: median 2; deviations 1 x4, 0 x4, 1 x3, 38: median 1
    assert centre == 2.0 and spread == pytest.approx(1.4826) and highest == 40.0
    assert baseline.hours[10] is None  # no data at 10:00
    assert baseline.peak == 40.0 and baseline.history_s == 4 * WEEK - 9 * 3600
    verdict = judge(baseline, 7.0, now + 9 * 3600, None)  # (7 - 2) / 1.4826 = 3.4 spreads: WARN
    assert verdict.state == 1 and verdict.text.startswith("baseline 2 ± 1.483, +3.4 spreads (warn/crit above 3/5)")
    assert judge(baseline, 70.0, now + 9 * 3600).state == 2  # 75 % above the peak as well


def test_nothing_is_judged_before_enough_history_and_the_service_says_so() -> None:
    now = MONDAY + 3 * 86400
    points = [(MONDAY + n * 300, 1.0, 1.0) for n in range(3 * 288)]
    verdict = judge(compute(RULE, points, now, 0), 1000.0, now)
    assert verdict.state == 0 and verdict.text == "baseline after 2 weeks of data (has 3.0 d)"


@given(st.lists(st.tuples(st.floats(MONDAY, MONDAY + 4 * WEEK), st.floats(allow_nan=True, allow_infinity=True),
                          st.floats(allow_nan=True, allow_infinity=True)), max_size=300),
       st.floats(allow_nan=True, allow_infinity=True))
def test_any_values_are_computed_and_judged_without_a_crash(points: list[tuple[float, float, float]],
                                                            value: float) -> None:
    baseline = compute(BaselineRule(1, "x", weeks=4, min_weeks=0), sorted(points), MONDAY + 4 * WEEK, 0)
    for band in baseline.hours:
        assert band is None or (math.isfinite(band[0]) or abs(band[0]) == math.inf)
    judge(baseline, value, MONDAY + 4 * WEEK)


def history(store: Store, host: str, service: str, metric: str, weeks: float, now: float, value: float) -> None:
    """`weeks` of 5-minute buckets of a steady value with a little noise, in the store's own tier."""
    first = int((now - weeks * WEEK) // 300)
    buckets = [(bucket, 5, 5 * (value + (bucket % 3) * 0.01), value, value + 0.02)
               for bucket in range(first, int(now // 300))]
    with store.transaction("test history") as db:
        metric_history.store_buckets(db, store._series_id(db, host, service, metric), 1, buckets)


async def test_a_real_agents_load_is_judged_against_the_baseline_the_daemon_computed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the real Checkmk agent output says load1 0.79; three weeks of history at 0.10
    store = Store(tmp_path / "home" / "watchkeeper.db")
    store.add_host(HostConfig("db1", f"file://{agent_output('checkmk-1.4.0i2-debian12.txt')}",
                              options={"labels": {"role": "db"}}))
    store.add_host(HostConfig("new1", f"file://{agent_output('checkmk-1.4.0i2-debian12.txt')}",
                              options={"labels": {"role": "db"}}))
    now = MONDAY + 3 * WEEK + 10 * 3600
    history(store, "db1", "CPU load", "load1", 3, now, 0.10)
    history(store, "new1", "CPU load", "load1", 0.5, now, 0.10)
    home = str(tmp_path / "home")
    assert main(["--home", home, "baseline", "add", "load1", "--label", "role=db", "--spreads", "3,5"]) == 0
    done = BaselineTables(store).compute_all(now, utc_offset_s=0)
    assert (done.series, done.active) == (2, 1)

    scheduler = Scheduler(store, Paths(tmp_path / "home"), clock=lambda: now)
    await scheduler.reload()
    for host in ("db1", "new1"):
        await scheduler.check_host(scheduler.hosts[host])  # discovers and checks
    load = {o.name: o for o in (await scheduler.check_host(scheduler.hosts["db1"])).outcomes}["CPU load"]
    assert load.state == 2, load.summary
    # each hour's values 0.10, 0.11, 0.12: median 0.11, deviations 0.01: spread 0.014826;
    # (0.79 - 0.11) / 0.014826 = 45.9 spreads
    assert "load1: baseline 0.11 ± 0.01483, +45.9 spreads (warn/crit above 3/5) (!!)" in load.summary
    fresh = {o.name: o for o in (await scheduler.check_host(scheduler.hosts["new1"])).outcomes}["CPU load"]
    assert fresh.state == 0 and "load1: baseline after 2 weeks of data (has 3.5 d)" in fresh.summary

    assert main(["--home", home, "baseline", "show", "db1", "CPU load", "load1"]) == 0
    assert "history 21.0 d of 4 weeks; judged" in capsys.readouterr().out


def test_the_graph_draws_the_band_where_the_metric_usually_is_and_only_once_it_is_judged() -> None:
    from watchkeeper.store.database import MetricPoint
    from watchkeeper.web.graph import baseline_band, draw

    now = MONDAY + 4 * WEEK
    points = [(MONDAY + n * 300, 1.0 + (n % 3), 3.0) for n in range(4 * 2016)]
    baseline = compute(RULE, points, now, 0)
    corners = baseline_band(baseline, now - 7200, now)
    # Sunday 22:00 and 23:00: values 1, 2, 3: centre 2, spread 1.4826, warn at 3 spreads: 2 -/+ 4.45
    assert corners[0][0] == now - 7200
    assert corners[0][1:] == pytest.approx((2 - 3 * 1.4826, 2 + 3 * 1.4826))
    assert len(corners) == 4
    drawn = draw("load1", [MetricPoint(now - 60, 2.0, 2.0, 2.0)], now - 7200, now, 60.0, baseline=baseline)
    assert '<polygon class="baseline"' in drawn.svg
    young = compute(RULE, points[-288:], now, 0)
    assert '<polygon class="baseline"' not in draw("load1", [], now - 7200, now, 60.0, baseline=young).svg


def test_an_hourly_run_learns_the_hours_that_passed_and_equals_learning_everything_again(tmp_path: Path) -> None:
    store = Store(tmp_path / "wk.db")
    store.add_host(HostConfig("db1", "none"))
    tables = BaselineTables(store)
    tables.add_rule(BaselineRule(0, "load1", weeks=2, min_weeks=1))
    noise = [((n * 7919) % 13) / 10 for n in range(5000)]

    def write(first: float, last: float) -> None:
        buckets = [(b, 1, 1.0 + noise[b % 5000] + (b % 288) / 100, 0.0, 9.0 + noise[b % 5000])
                   for b in range(int(first // 300), int(last // 300))]
        with store.transaction("test history") as db:
            metric_history.store_buckets(db, store._series_id(db, "db1", "CPU load", "load1"), 1, buckets)

    now = MONDAY + 3 * WEEK + 10 * 3600 + 1200
    write(now - 3 * WEEK, now)
    tables.compute_all(now, utc_offset_s=3600)
    for hour in range(1, 4):  # three hourly runs, each after another hour of data
        write(now + (hour - 1) * 3600, now + hour * 3600)
        tables.compute_all(now + hour * 3600, utc_offset_s=3600)
    learned = tables.baselines()["db1"]["CPU load"]["load1"]
    store.db.execute("DELETE FROM metric_baselines")
    tables.compute_all(now + 3 * 3600, utc_offset_s=3600)
    afresh = tables.baselines()["db1"]["CPU load"]["load1"]
    assert learned.hours == afresh.hours and learned.peak == afresh.peak
    assert learned.history_s == afresh.history_s == 2 * WEEK
