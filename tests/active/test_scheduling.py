"""Active and passive services in the scheduler, on a real store with a hand-turned clock:
results are written like agent results, soft problems are retried, passive results wait in
the inbox until the daemon takes them, and silence past the freshness limit is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.active.plugins import plugin
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.hosts import HostConfig
from watchkeeper.notify.notifier import Notifier
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import ServiceRow, Store
from watchkeeper.store.notify_tables import NotifyTables

T0 = 1_790_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "wk.db")
    store.add_host(HostConfig("nas1", "none", options={"address": "127.0.0.1"}))
    return store


def scheduler(store: Store, tmp_path: Path, clock: Clock) -> Scheduler:
    return Scheduler(store, Paths(tmp_path), clock=clock, notifier=Notifier(NotifyTables(store), clock=clock))


def service(store: Store, name: str) -> ServiceRow:
    return next(row for row in store.services("nas1") if row.name == name)


async def test_agentless_host_has_only_its_own_services_and_is_never_fetched(store: Store, tmp_path: Path) -> None:
    ActiveTables(store).add(ActiveCheck("nas1", "Ping", (plugin("check_dummy"), "0", "alive"), host_check=True))
    sched = scheduler(store, tmp_path, Clock())
    await sched.reload()
    assert [row.name for row in store.services("nas1")] == ["Ping"]  # no Agent, no Service discovery
    sched._start_due(T0 + 3600)
    assert sched.active_running == 1 and not sched._tasks  # the host check; the agent is never fetched
    await sched.active_settled()
    sched.sink.flush_now()
    assert service(store, "Ping").summary == "OK: alive"
    assert store.host("nas1").state == "UP"
    assert sched.stats.cycles == 0 and sched.stats.plugins_run == 1
    await sched.plugin_pool.close()


async def test_a_problem_is_retried_at_the_retry_interval_until_hard(store: Store, tmp_path: Path) -> None:
    check = ActiveCheck("nas1", "Disk", (plugin("check_dummy"), "2", "full|used=99%;80;90"), interval_s=300,
                        retry_interval_s=20, max_attempts=3)
    ActiveTables(store).add(check)
    clock = Clock()
    sched = scheduler(store, tmp_path, clock)
    await sched.reload()
    runtime = sched.active[("nas1", "Disk")]
    dues = []
    for _ in range(4):
        clock.now = runtime.due
        sched._start_due(clock.now)
        await sched.active_settled()
        dues.append(runtime.due - clock.now)
    assert dues == [20.0, 20.0, 300.0, 300.0]  # soft, soft, hard: back to the normal interval
    sched.sink.flush_now()
    row = service(store, "Disk")
    assert (row.state, row.summary) == (2, "CRITICAL: full")
    [point] = store.metric_points("nas1", "Disk", "used_percent", 0, 2e9)
    assert point.avg == 99.0
    await sched.plugin_pool.close()


async def test_passive_results_wait_in_the_inbox_and_arrive_in_order(store: Store, tmp_path: Path) -> None:
    tables = ActiveTables(store)
    tables.add(ActiveCheck("nas1", "Backup", passive=True, freshness_s=3600))
    tables.submit("nas1", "Backup", 2, "backup failed: disk full|duration=30s", received=T0 - 20)
    tables.submit("nas1", "Backup", 0, "backup done\n3 volumes|duration=300s;600;900", received=T0 - 10)
    sched = scheduler(store, tmp_path, Clock())  # the daemon starts after the results came in
    await sched.reload()
    sched.sink.flush_now()
    row = service(store, "Backup")
    assert (row.state, row.summary, row.details) == (0, "backup done", "3 volumes")
    assert [(h.state, h.summary) for h in store.history("nas1", "Backup")] == [
        (0, "backup done"), (2, "backup failed: disk full")]
    assert tables.take_inbox() == []


async def test_a_result_right_after_the_service_is_added_is_taken_not_dropped(store: Store, tmp_path: Path) -> None:
    """`service add --passive` then a result at once: the daemon has not reloaded its services yet."""
    sched = scheduler(store, tmp_path, Clock())
    await sched.reload()  # the daemon runs; it knows no passive service
    tables = ActiveTables(store)
    tables.add(ActiveCheck("nas1", "Backup", passive=True, freshness_s=3600))
    tables.submit("nas1", "Backup", 1, "backup slow", received=T0)
    sched.sink.flush_now()
    row = service(store, "Backup")
    assert (row.state, row.summary) == (1, "backup slow")
    assert tables.take_inbox() == []


async def test_silence_past_the_freshness_limit_is_stale_with_its_age(store: Store, tmp_path: Path) -> None:
    tables = ActiveTables(store)
    tables.add(ActiveCheck("nas1", "Backup", passive=True, freshness_s=3600))
    tables.add(ActiveCheck("nas1", "Replication", passive=True, freshness_s=600, stale_state=2))
    clock = Clock()
    sched = scheduler(store, tmp_path, clock)
    await sched.reload()
    tables.submit("nas1", "Backup", 0, "backup done", received=T0)
    clock.now = T0 + 500
    sched.sink.flush_now()
    assert service(store, "Backup").state == 0 and service(store, "Replication").state == -1
    clock.now = T0 + 601
    sched.sink.flush_now()
    replication = service(store, "Replication")
    assert (replication.state, replication.stale) == (2, False)
    assert replication.summary == "no result submitted for 10 minutes 1 second (expected at least every 10 minutes)"
    clock.now = T0 + 3700
    sched.sink.flush_now()
    backup = service(store, "Backup")
    assert (backup.state, backup.stale) == (3, True) and backup.summary.startswith("no result submitted for 1 hour")
    tables.submit("nas1", "Backup", 0, "backup done again", received=clock.now)
    sched.sink.flush_now()
    assert (service(store, "Backup").state, service(store, "Backup").stale) == (0, False)


def test_results_for_unknown_services_and_bad_states_are_refused(store: Store) -> None:
    tables = ActiveTables(store)
    tables.add(ActiveCheck("nas1", "Backup", passive=True))
    with pytest.raises(Exception, match="nas1 has no service 'Nope' that takes results"):
        tables.submit("nas1", "Nope", 0, "x")
    with pytest.raises(Exception, match="the state must be 0-3"):
        tables.submit("nas1", "Backup", 7, "x")
