"""The SQLite store: cycles, history on change only, a full disk (metric history: test_metric_history.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from watchkeeper.checkapi import Metric
from watchkeeper.errors import ConfigError, StoreError
from watchkeeper.model.cycles import HostCycle, Outcome, ServiceSpec
from watchkeeper.model.hosts import HostConfig
from watchkeeper.store.database import Store


def cycle(now: float, state: int, value: float = 1.0, summary: str = "fine") -> HostCycle:
    outcome = Outcome("Memory", state, summary, metrics=[Metric("mem_used_bytes", value)])
    return HostCycle("web1", now, True, "", [outcome], {"Memory": {"counter": [now, value]}})


def test_history_records_state_changes_only(store: Store) -> None:
    for now, state in [(60.0, 0), (120.0, 0), (180.0, 2), (240.0, 2), (300.0, 0)]:
        store.write_cycles([cycle(now, state, summary=f"at {now:g}")])
    assert [(h.ts, h.state) for h in reversed(store.history("web1", "Memory"))] == [(60.0, 0), (180.0, 2), (300.0, 0)]
    service = next(s for s in store.services("web1") if s.name == "Memory")
    assert (service.state, service.summary, service.last_check, service.last_change) == (0, "at 300", 300.0, 300.0)


def test_host_state_changes_are_history_of_the_host(store: Store) -> None:
    store.write_cycles([cycle(60.0, 0)])
    store.write_cycles([HostCycle("web1", 120.0, False, "refused", [])])
    assert [h.summary for h in store.history("web1", "")] == ["host DOWN: refused", "host UP"]
    assert store.host("web1").state == "DOWN"


def test_value_stores_survive_a_reopen(store: Store, tmp_path: Path) -> None:
    store.write_cycles([cycle(60.0, 0, 5.0)])
    store.close()
    assert Store(tmp_path / "wk.db").value_stores("web1") == {"Memory": {"counter": [60.0, 5.0]}}


def test_a_removed_service_is_not_resurrected_by_a_late_cycle(store: Store) -> None:
    store.accept_services("web1", [], remove=["Memory"])
    store.write_cycles([cycle(60.0, 0)])
    assert [s.name for s in store.services("web1")] == ["Agent", "Service discovery"]


def test_adding_a_host_twice_says_so(store: Store) -> None:
    with pytest.raises(ConfigError, match="host web1 exists already"):
        store.add_host(HostConfig("web1", "local"))


def test_full_disk_is_a_clear_error_and_loses_nothing_already_stored(store: Store) -> None:
    store.write_cycles([cycle(60.0, 0)])
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")  # the database can grow no more: like a full disk
    big = [HostCycle("web1", 120.0 + i, True, "", [Outcome("Memory", 1, "x" * 100_000)]) for i in range(20)]
    with pytest.raises(StoreError, match="database or disk is full.*Free space"):
        store.write_cycles(big)
    assert next(s for s in store.services("web1") if s.name == "Memory").summary == "fine"


def test_a_damaged_database_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not sqlite" * 1000)
    with pytest.raises(StoreError, match="not a database.*restore it from a backup"):
        Store(path)


def test_the_store_is_in_wal_mode(store: Store) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert isinstance(store.db, sqlite3.Connection)


def test_several_cycles_of_one_host_in_one_batch_record_each_change_once(store: Store) -> None:
    store.write_cycles([cycle(60.0, 0), cycle(120.0, 0), cycle(180.0, 2), cycle(240.0, 2)])
    assert [(h.ts, h.state) for h in reversed(store.history("web1", "Memory"))] == [(60.0, 0), (180.0, 2)]


def test_a_service_that_starts_pending_has_a_time_in_state(store: Store) -> None:
    store.write_cycles([cycle(60.0, -1), cycle(120.0, -1)])
    assert next(s for s in store.services("web1") if s.name == "Memory").last_change == 60.0


def test_a_batch_that_failed_is_not_remembered_as_written(store: Store) -> None:
    store.write_cycles([cycle(60.0, 0)])
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError):
        store.write_cycles([cycle(120.0, 2, summary="x" * 2_000_000)])
    store.db.execute("PRAGMA max_page_count = 1073741823")
    store.write_cycles([cycle(180.0, 2)])
    assert [(h.ts, h.state) for h in reversed(store.history("web1", "Memory"))] == [(60.0, 0), (180.0, 2)]


def test_a_service_accepted_on_another_connection_is_written_by_this_one(store: Store, tmp_path: Path) -> None:
    store.write_cycles([cycle(60.0, 0)])  # the writer now remembers web1's services
    Store(tmp_path / "wk.db").accept_services("web1", [ServiceSpec("CPU load", "cpu_loads", "")])
    store.write_cycles([HostCycle("web1", 120.0, True, "", [Outcome("CPU load", 1, "busy")])])
    assert [(h.ts, h.state) for h in store.history("web1", "CPU load")] == [(120.0, 1)]


def test_a_service_removed_and_added_again_elsewhere_begins_a_new_history(store: Store, tmp_path: Path) -> None:
    store.write_cycles([cycle(60.0, 0)])
    other = Store(tmp_path / "wk.db")
    other.accept_services("web1", [], remove=["Memory"])
    other.accept_services("web1", [ServiceSpec("Memory", "mem", "")])  # PENDING again
    store.services_generation += 1  # what the daemon does when the configuration says services changed
    store.write_cycles([cycle(120.0, 0)])
    assert [(h.ts, h.state) for h in reversed(store.history("web1", "Memory"))] == [(60.0, 0), (120.0, 0)]
