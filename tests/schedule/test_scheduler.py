"""The scheduler: hosts spread over the interval, misbehaving hosts cost only themselves,
results wait in memory while the store cannot take them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import agent_output
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.errors import StoreError
from watchkeeper.model.cycles import HostCycle
from watchkeeper.model.hosts import HostConfig
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler, _first_due
from watchkeeper.store.database import Store

AGENT_OUTPUT = agent_output("checkmk-1.4.0i2-debian12.txt")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "wk.db")
    garbage = tmp_path / "garbage.txt"
    garbage.write_bytes(bytes(range(256)) * 50)
    store.add_host(HostConfig("good", f"file://{AGENT_OUTPUT}"))
    store.add_host(HostConfig("gone", f"file://{tmp_path / 'missing.txt'}"))
    store.add_host(HostConfig("junk", f"file://{garbage}"))
    return store


async def test_one_loop_checks_every_host_and_stores_them_in_one_batch(store: Store, tmp_path: Path) -> None:
    scheduler = Scheduler(store, Paths(tmp_path))
    stop = asyncio.Event()
    await scheduler.run(stop, on_flush=lambda written: stop.set())
    hosts = {row.config.name: row.state for row in store.hosts()}
    assert hosts == {"good": "UP", "gone": "DOWN", "junk": "UP"}
    good = {s.name: s.state for s in store.services("good")}
    assert len(good) > 10 and good["Memory"] == 0  # a new host's services were discovered and accepted
    junk = {s.name: s for s in store.services("junk")}
    assert junk["Agent"].state == 2 and "holds no sections" in junk["Agent"].summary


class Exploding:
    async def fetch(self) -> AgentOutput:
        raise RuntimeError("a bug in a transport")

    async def close(self) -> None:
        return None


async def test_an_unexpected_error_for_one_host_leaves_the_others_running(
        store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    scheduler = Scheduler(store, Paths(tmp_path))
    await scheduler.reload()
    scheduler.hosts["junk"].transport = Exploding()
    stop = asyncio.Event()
    await scheduler.run(stop, on_flush=lambda written: stop.set())
    assert "junk: the check cycle failed" in caplog.text
    assert store.host("good").state == "UP"


async def test_a_cycle_that_fails_leaves_no_old_state_standing(store: Store, tmp_path: Path) -> None:
    scheduler = Scheduler(store, Paths(tmp_path))
    await scheduler.reload()
    await scheduler.check_host(scheduler.hosts["good"])
    scheduler.sink.flush_now()
    assert {s.name: s.state for s in store.services("good")}["Memory"] == 0
    scheduler.hosts["good"].transport = Exploding()
    await scheduler._guarded(scheduler.hosts["good"])
    scheduler.sink.flush_now()
    services = {s.name: s for s in store.services("good")}
    assert services["Memory"].state == 3 and services["Memory"].stale
    assert services["Memory"].summary.startswith("stale: the check cycle failed (RuntimeError: a bug in a transport")
    assert services["Agent"].state == 3 and "a bug in a transport" in services["Agent"].summary


async def test_cycles_wait_in_memory_while_the_store_cannot_take_them(
        store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    scheduler = Scheduler(store, Paths(tmp_path))
    await scheduler.reload()
    writer = scheduler.sink.writer
    real_write = writer.write_cycles

    def full_disk(cycles: Sequence[HostCycle], stores: object = ()) -> None:
        raise StoreError(f"store {store.path}: storing failed: database or disk is full. Free space ...")

    monkeypatch.setattr(writer, "write_cycles", full_disk)  # the store's own full-disk error is tested with it
    await scheduler.check_host(scheduler.hosts["good"])
    scheduler.sink.flush_now()
    assert "database or disk is full" in caplog.text and "(1 cycles wait in memory)" in caplog.text
    monkeypatch.setattr(writer, "write_cycles", real_write)
    await scheduler.check_host(scheduler.hosts["good"])
    scheduler.sink.flush_now()
    assert [h.summary for h in store.history("good", "")] == ["host UP"]
    assert len(store.history("good", "Memory")) == 1  # both cycles stored; the state changed once


def test_hosts_with_one_interval_spread_over_it() -> None:
    buckets = [0] * 10
    for index in range(1000):
        due = _first_due(f"host{index:04d}.example.org", 60.0, 1_800_000_000.0)
        assert 1_800_000_000.0 <= due < 1_800_000_060.0
        buckets[int((due - 1_800_000_000.0) // 6)] += 1
    assert max(buckets) < 140  # an even spread puts 100 in each sixth of a minute
