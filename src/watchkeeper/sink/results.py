"""What happens to a finished check cycle, in one order, in one place.

1. **observe**: `put()` hands the cycle to the notifier at once (soft/hard, flapping); the
   answer (a problem still soft) goes back to the scheduler, which checks again sooner.
2. **batch**: the cycle waits in memory with the others. Value stores (counters for rates)
   are serialised here, on the event loop, at most once a minute per host: the next cycle
   changes them, and a restart that finds them a minute old only measures a rate over a
   longer span.
3. **write**: once a second, or as soon as `FLUSH_OUTCOMES` results wait, passive results
   are taken from the inbox and the whole batch is written in one transaction by the
   writer thread, on its own connection, so the event loop never waits for SQLite. While
   the store cannot be written (a full disk) the batch stays in memory, bounded, and is
   written when it works again.
4. **tick**: after the write, the notifier re-evaluates what time changes (downtimes,
   escalations, periods), saves its alert states and composes due messages.

The scheduler decides only when checks run; it never writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from watchkeeper.errors import StoreError
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.alerts import AlertPolicy
from watchkeeper.model.cycles import HostCycle, Outcome
from watchkeeper.notify.notifier import Notifier
from watchkeeper.sink.passive import PassiveResults
from watchkeeper.store.database import Store

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 1.0
FLUSH_OUTCOMES = 20_000
MAX_UNWRITTEN_CYCLES = 100_000
VALUE_STORES_EVERY_S = 60.0


class ResultsSink:
    def __init__(self, writer: Store, passive: PassiveResults, *, notifier: Notifier | None,
                 clock: Callable[[], float]) -> None:
        """`writer`: a connection of its own; nothing else writes through it."""
        self.writer = writer
        self.passive = passive
        self.notifier = notifier
        self.clock = clock
        self.unwritten: list[HostCycle] = []
        self._unwritten_outcomes = 0
        self._stores: dict[tuple[str, str], str] = {}
        self._stores_saved: dict[str, float] = {}
        self._stores_later: dict[str, dict[str, dict[str, Any]]] = {}
        self._full = asyncio.Event()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self.writes = 0
        self.on_written: Callable[[int], None] | None = None
        """Called with the number of cycles after each write that stored some."""

    # ------------------------------------------------------------------ 1 and 2
    def put(self, cycle: HostCycle, policy: AlertPolicy) -> bool:
        """Observe and batch one cycle; True when it holds a problem that is still soft."""
        soft = False
        if self.notifier is not None:
            try:
                soft = self.notifier.observe(cycle, policy)
            except Exception:  # the notifier may be what failed: the states are still written
                log.exception("%s: the cycle could not be told to the notifier", cycle.host)
        if cycle.value_stores:
            self._batch_value_stores(cycle.host, cycle.value_stores, cycle.started)
            cycle.value_stores = {}
        self.unwritten.append(cycle)
        self._unwritten_outcomes += len(cycle.outcomes)
        if self._unwritten_outcomes >= FLUSH_OUTCOMES:
            self._full.set()
        return soft

    def put_result(self, check: ActiveCheck, outcome: Outcome, started: float) -> bool:
        """An active or passive service's result, as a partial cycle (a whole one for a host check)."""
        if check.host_check:
            up = outcome.state in (0, 1)
            cycle = HostCycle(check.host, started, up, "" if up else outcome.summary, [outcome])
        else:
            cycle = HostCycle(check.host, started, True, "", [outcome], partial=True)
        return self.put(cycle, AlertPolicy(max_attempts=check.max_attempts))

    def _batch_value_stores(self, host: str, stores: dict[str, dict[str, Any]], now: float) -> None:
        if now - self._stores_saved.get(host, -math.inf) < VALUE_STORES_EVERY_S:
            self._stores_later[host] = stores  # the same dictionaries the checks keep updating
            return
        self._stores_saved[host] = now
        self._stores_later.pop(host, None)
        for service, data in stores.items():
            self._stores[(host, service)] = json.dumps(data, separators=(",", ":"))

    # ------------------------------------------------------------------ 3 and 4
    async def run(self, stop: asyncio.Event) -> None:
        """Write once a second, or sooner when a batch is full, until `stop`."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), timeout=FLUSH_INTERVAL_S)
            self._full.clear()
            await self.flush()

    async def flush(self) -> None:
        """Passive results in, the batch written on the writer thread, then the notifier's tick."""
        batch, stores = self._take()
        if batch or stores:
            failed = await asyncio.get_running_loop().run_in_executor(self._thread, self._write, batch, stores)
            self._after_write(batch, stores, failed)
        self._tick()

    def flush_now(self) -> None:
        """The same as `flush`, in the caller's thread (at shutdown, and for tests)."""
        batch, stores = self._take()
        if batch or stores:
            self._after_write(batch, stores, self._write(batch, stores))
        self._tick()

    def _write(self, batch: list[HostCycle], stores: list[tuple[str, str, str]]) -> StoreError | None:
        try:
            self.writer.write_cycles(batch, stores)
        except StoreError as exc:
            return exc
        return None

    def _after_write(self, batch: list[HostCycle], stores: list[tuple[str, str, str]],
                     failed: StoreError | None) -> None:
        if failed is not None:
            self._give_back(batch, stores, failed)
        else:
            self._written(batch)

    def close(self) -> None:
        """Write everything still held: the last batch and every value store. (The coarse metric
        buckets still filling are folded in again from the 1-minute tier after a restart.)"""
        for host, stores in self._stores_later.items():
            for service, data in stores.items():
                self._stores[(host, service)] = json.dumps(data, separators=(",", ":"))
        self._stores_later.clear()
        self.flush_now()
        self._thread.shutdown()

    def services_changed(self) -> None:
        """Services were added or removed elsewhere: the writer reads their states afresh."""
        self.writer.services_generation += 1

    def forget_host(self, host: str) -> None:
        """A host removed from the configuration: nothing of it may be written again."""
        self._stores_saved.pop(host, None)
        self._stores_later.pop(host, None)
        self._stores = {key: data for key, data in self._stores.items() if key[0] != host}
        self.writer.forget_host(host)

    def _take(self) -> tuple[list[HostCycle], list[tuple[str, str, str]]]:
        try:
            for check, outcome, received in self.passive.collect(self.clock()):
                self.put_result(check, outcome, received)
        except StoreError as exc:
            log.error("passive results wait in the inbox: %s", exc)
        batch, self.unwritten, self._unwritten_outcomes = self.unwritten, [], 0
        stores = [(host, service, data) for (host, service), data in self._stores.items()]
        self._stores = {}
        return batch, stores

    def _give_back(self, batch: list[HostCycle], stores: list[tuple[str, str, str]], exc: StoreError) -> None:
        batch.extend(self.unwritten)  # in the order they were checked
        if len(batch) > MAX_UNWRITTEN_CYCLES:  # bounded: keep the newest, say what was dropped
            log.error("dropping %d unwritten cycles, the store has failed for too long",
                      len(batch) - MAX_UNWRITTEN_CYCLES)
            del batch[: len(batch) - MAX_UNWRITTEN_CYCLES]
        self.unwritten = batch
        self._unwritten_outcomes = sum(len(cycle.outcomes) for cycle in batch)
        for host, service, data in stores:
            self._stores.setdefault((host, service), data)  # a newer one taken since wins
        log.error("%s (%d cycles wait in memory)", exc, len(batch))

    def _written(self, batch: list[HostCycle]) -> None:
        self.writes += 1
        log.debug("stored %d host cycles", len(batch))
        if batch and self.on_written is not None:
            self.on_written(len(batch))
        try:
            self.passive.written()
        except StoreError as exc:
            log.error("passive results stay in the inbox and may be taken twice: %s", exc)

    def _tick(self) -> None:
        if self.notifier is None:
            return
        try:
            self.notifier.tick(self.clock())
        except StoreError as exc:
            log.error("alert states not saved, kept in memory: %s", exc)
