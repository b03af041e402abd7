"""Configuration changes made elsewhere (the CLI is another process) reach the running scheduler
through the store's counters: only what changed is read again, and new checks are spread."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.cycles import HostCycle
from watchkeeper.model.hosts import HostConfig
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import NEW_CHECK_SPREAD_S, Scheduler
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import Store

T0 = 1_790_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "wk.db")
    store.add_host(HostConfig("nas1", "none"))
    return store


def scheduler(store: Store, tmp_path: Path) -> Scheduler:
    return Scheduler(store, Paths(tmp_path), clock=lambda: T0)


async def test_a_host_added_through_another_connection_is_applied_and_results_are_not_a_change(
        store: Store, tmp_path: Path) -> None:
    sched = scheduler(store, tmp_path)
    await sched.reload()
    assert not await sched.reload_if_changed()
    store.write_cycles([HostCycle("nas1", T0, True, "", [])])  # results, not configuration
    assert not await sched.reload_if_changed()
    cli = Store(store.path)
    cli.add_host(HostConfig("web1", "local"))
    assert await sched.reload_if_changed()
    assert set(sched.hosts) == {"nas1", "web1"}


async def test_adding_a_host_does_not_read_the_checks_again(store: Store, tmp_path: Path) -> None:
    ActiveTables(store).add(ActiveCheck("nas1", "Ping", ("/bin/true",)))
    sched = scheduler(store, tmp_path)
    await sched.reload()
    check = sched.active[("nas1", "Ping")].check
    epoch = sched.epoch
    Store(store.path).add_host(HostConfig("web1", "local"))  # with its Agent and discovery services
    await sched.reload_if_changed()
    assert sched.active[("nas1", "Ping")].check is check and sched.epoch == epoch + 1
    ActiveTables(Store(store.path)).add(ActiveCheck("nas1", "Ping", ("/bin/false",)), replace=True)
    await sched.reload_if_changed()
    assert sched.active[("nas1", "Ping")].check.argv == ("/bin/false",)


async def test_checks_spread_over_their_interval_at_start_and_new_ones_start_soon(
        store: Store, tmp_path: Path) -> None:
    ActiveTables(store).add_many([ActiveCheck("nas1", f"Check {index}", ("/bin/true",), interval_s=300)
                                  for index in range(1000)])
    sched = scheduler(store, tmp_path)
    await sched.reload()
    dues = sorted(runtime.due - T0 for runtime in sched.active.values())
    assert dues[0] >= 0 and dues[-1] < 300 and dues[len(dues) // 2] > 100  # spread, not bunched at the start
    ActiveTables(Store(store.path)).add(ActiveCheck("nas1", "New", ("/bin/true",), interval_s=300))
    await sched.reload_if_changed()
    assert 0 <= sched.active[("nas1", "New")].due - T0 < NEW_CHECK_SPREAD_S


async def test_many_new_hosts_are_spread_over_a_few_seconds_a_single_one_starts_at_once(
        store: Store, tmp_path: Path) -> None:
    for index in range(500):
        store.add_host(HostConfig(f"web{index:03d}", "local", 60.0))
    sched = scheduler(store, tmp_path)
    await sched.reload()
    dues = [runtime.due - T0 for name, runtime in sched.hosts.items() if name != "nas1"]
    assert 1.0 < max(dues) < 501 * NEW_CHECK_SPREAD_S  # 501 new hosts, nas1 too
    Store(store.path).add_host(HostConfig("late", "local", 60.0))
    await sched.reload_if_changed()
    assert sched.hosts["late"].due - T0 < NEW_CHECK_SPREAD_S

