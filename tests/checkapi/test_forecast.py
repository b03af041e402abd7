"""Time until full from a trend that never cries wolf: no verdict before six hours of data, a
burst of writes does not move it, noise is told but not judged, and a steady fill alerts when
the time left crosses the level."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import results
from watchkeeper.checkapi import Fixed, Metric, State, ValueStore, check_time_until_full
from watchkeeper.checkapi.forecast import theil_sen

DAY, HOUR, GB = 86400.0, 3600.0, 1e9
LEVELS = Fixed(warn=7 * DAY, crit=2 * DAY)
SIZE = 100 * GB


def run(samples: list[tuple[float, float]], store: ValueStore | None = None) -> list[object]:
    """Check every (time, used bytes) sample in turn; the outputs of the last."""
    store = {} if store is None else store
    out: list[object] = []
    for now, used in samples:
        out = list(check_time_until_full(store, now, used, SIZE - used, horizon_s=DAY, levels=LEVELS,
                                         metric_prefix="fs"))
    return out


def worst(out: list[object]) -> State:
    return max((r.state for r in results(out)), default=State.OK)  # type: ignore[arg-type]


def text(out: list[object]) -> str:
    return ", ".join(r.summary for r in results(out) if r.summary)  # type: ignore[arg-type]


def metric(out: list[object], name: str) -> float | None:
    return next((m.value for m in out if isinstance(m, Metric) and m.name == name), None)


def test_a_fresh_install_writing_gigabytes_in_ten_minutes_gets_no_verdict() -> None:
    # the case: 28 % used, a burst of writes right after installing, checked every minute
    samples = [(60.0 * minute, 28 * GB + min(minute, 5) * 1.2 * GB) for minute in range(11)]
    out = run(samples)
    assert worst(out) is State.OK and text(out) == "forecast after 6 hours of data"
    assert metric(out, "fs_time_until_full_seconds") is None


def test_one_burst_in_a_flat_day_does_not_predict_a_full_disk() -> None:
    samples = [(300.0 * step, 40 * GB + (30 * GB if step >= 144 else 0.0)) for step in range(288)]
    out = run(samples)  # a day at 40 GB, then 30 GB written at once half-way, then flat again
    assert worst(out) is State.OK
    until = metric(out, "fs_time_until_full_seconds")
    assert until is None or until > 7 * DAY, text(out)


def test_a_steady_fill_warns_when_a_week_is_left_and_goes_crit_two_days_before() -> None:
    store: ValueStore = {}
    states: dict[State, float] = {}
    for step in range(12 * 288):  # 5 GB a day from 20 GB, checked every five minutes for twelve days
        now = 300.0 * step
        out = run([(now, 20 * GB + 5 * GB * now / DAY)], store)
        states.setdefault(worst(out), now)
    # 80 GB free at the start: a week left after 9 days (45 GB written), two days left after 14
    assert abs(states[State.WARN] - 9 * DAY) <= HOUR
    assert State.CRIT not in states
    assert "growing 4.66 GiB/day" in text(out)


def test_noise_around_a_level_is_told_but_never_judged() -> None:
    rng = random.Random(7)
    samples = [(300.0 * step, 60 * GB + rng.uniform(-2, 2) * GB) for step in range(3 * 288)]
    out = run(samples)
    assert worst(out) is State.OK
    assert metric(out, "fs_time_until_full_seconds") is None
    assert "no clear trend" in text(out) or "growing" not in text(out)


def test_the_fit_is_the_median_slope_and_says_how_sure_it_is() -> None:
    steady = theil_sen([(float(t), 2.0 * t) for t in range(10)])
    assert steady is not None and steady.slope == 2.0 and steady.confidence == 1.0 and steady.span_s == 9.0
    outlier = theil_sen([(float(t), 2.0 * t + (1000.0 if t == 5 else 0.0)) for t in range(10)])
    assert outlier is not None and outlier.slope == 2.0  # one point far off does not move it
    assert theil_sen([(0.0, 1.0), (1.0, 2.0)]) is None


@given(st.lists(st.tuples(st.floats(0, 1e7), st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                                        st.integers(-10**30, 10**30))), max_size=60),
       st.dictionaries(st.sampled_from(["used.trend", "used.fit"]),
                       st.lists(st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(),
                                          st.text(max_size=3)), max_size=8)))
def test_any_samples_and_any_kept_history_give_a_result_not_a_crash(samples: list[tuple[float, float]],
                                                                    kept: dict[str, list[object]]) -> None:
    store: ValueStore = dict(kept)  # type: ignore[arg-type]
    for now, used in sorted(samples):
        list(check_time_until_full(store, now, float(used), SIZE - float(used), horizon_s=DAY, levels=LEVELS,
                                   metric_prefix="fs"))
