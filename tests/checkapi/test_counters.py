from __future__ import annotations

from watchkeeper.checkapi import ValueStore, growth_rate, rate, seconds_until


def test_rate_is_none_on_first_sample_then_per_second() -> None:
    store: ValueStore = {}
    assert rate(store, "rx", 100.0, 1000) is None
    assert rate(store, "rx", 160.0, 7000) == 100.0


def test_rate_waits_a_cycle_after_a_counter_reset() -> None:
    store: ValueStore = {}
    rate(store, "rx", 100.0, 1000)
    assert rate(store, "rx", 160.0, 10) is None
    assert rate(store, "rx", 220.0, 610) == 10.0


def test_rate_survives_a_damaged_store_value() -> None:
    store: ValueStore = {"rx": "garbage"}
    assert rate(store, "rx", 100.0, 1) is None
    assert rate(store, "rx", 101.0, 2) == 1.0


def test_growth_starts_at_zero_and_converges_to_the_steady_rate() -> None:
    store: ValueStore = {}
    rates = [growth_rate(store, "used", 60.0 * i, 1000.0 * i, horizon_s=600.0) for i in range(200)]
    assert rates[0] is None
    assert rates[1] == 0.0
    last = rates[-1]
    assert last is not None and abs(last - 1000.0 / 60.0) < 0.01


def test_one_write_burst_does_not_forecast_a_full_disk() -> None:
    store: ValueStore = {}
    growth_rate(store, "used", 0.0, 0.0, horizon_s=3600.0)
    growth_rate(store, "used", 60.0, 0.0, horizon_s=3600.0)
    burst = growth_rate(store, "used", 120.0, 6e9, horizon_s=3600.0)
    assert burst is not None and burst < 0.02 * 6e9 / 60.0


def test_time_until_full_only_while_growing() -> None:
    assert seconds_until(100.0, 2.0) == 50.0
    assert seconds_until(100.0, 0.0) is None
    assert seconds_until(100.0, -1.0) is None
    assert seconds_until(100.0, None) is None
