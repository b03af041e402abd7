"""The results sink: cycles observed, batched and written in one order; value stores written
at most once a minute per host and in full at shutdown; nothing of a removed host written."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from watchkeeper.model.alerts import AlertPolicy
from watchkeeper.model.cycles import HostCycle, Outcome, ServiceSpec
from watchkeeper.model.hosts import HostConfig
from watchkeeper.notify.notifier import Notifier
from watchkeeper.sink.passive import PassiveResults
from watchkeeper.sink.results import VALUE_STORES_EVERY_S, ResultsSink
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables

T0 = 1_790_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "wk.db")
    store.add_host(HostConfig("web1", "local"))
    store.accept_services("web1", [ServiceSpec("Memory", "mem", "")])
    return store


def sink(store: Store, notifier: Notifier | None = None) -> ResultsSink:
    return ResultsSink(Store(store.path), PassiveResults(ActiveTables(store)), notifier=notifier, clock=lambda: T0)


def cycle(now: float, counter: float, state: int = 0) -> HostCycle:
    return HostCycle("web1", now, True, "", [Outcome("Memory", state, "fine")], {"Memory": {"counter": counter}})


def test_value_stores_are_written_once_a_minute_and_the_latest_at_shutdown(store: Store) -> None:
    results = sink(store)
    results.put(cycle(T0, 1.0), AlertPolicy())
    results.flush_now()
    assert store.value_stores("web1") == {"Memory": {"counter": 1.0}}
    results.put(cycle(T0 + 15, 2.0), AlertPolicy())
    results.flush_now()
    assert store.value_stores("web1") == {"Memory": {"counter": 1.0}}  # within the minute: not yet
    assert store.service("web1", "Memory").last_check == T0 + 15  # the state is written every time
    results.put(cycle(T0 + 30, 3.0), AlertPolicy())
    results.close()
    assert store.value_stores("web1") == {"Memory": {"counter": 3.0}}


def test_a_host_minute_later_gets_its_value_stores_written_again(store: Store) -> None:
    results = sink(store)
    results.put(cycle(T0, 1.0), AlertPolicy())
    results.put(cycle(T0 + VALUE_STORES_EVERY_S, 4.0), AlertPolicy())
    results.flush_now()
    assert store.value_stores("web1") == {"Memory": {"counter": 4.0}}


def test_the_notifier_sees_each_cycle_when_it_is_put_and_ticks_after_the_write(store: Store) -> None:
    tables = NotifyTables(store)
    tables.seed_defaults()
    notifier = Notifier(tables, clock=lambda: T0)
    results = sink(store, notifier)
    soft = results.put(cycle(T0, 1.0, state=2), AlertPolicy(max_attempts=3))
    assert soft and ("web1", "Memory") in notifier.tracked and notifier.dirty  # observed at once
    asyncio.run(results.flush())
    assert not notifier.dirty  # the tick after the write saved the alert state
    assert store.service("web1", "Memory").state == 2


def test_nothing_of_a_removed_host_is_written_after_it_is_forgotten(store: Store) -> None:
    results = sink(store)
    results.put(cycle(T0, 1.0), AlertPolicy())
    results.put(cycle(T0 + 15, 2.0), AlertPolicy())  # its value stores wait for shutdown
    results.forget_host("web1")
    store.remove_host("web1")
    results.close()
    assert store.value_stores("web1") == {}
