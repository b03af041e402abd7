"""When to check which host. Knows nothing about what a check does.

Each host is due every `interval_s`, at a fixed offset inside the interval derived from its
name, so a thousand hosts with the same interval spread out instead of arriving together.
Fetches run concurrently up to a bound; parsing and checking run synchronously in the
loop; results are written in batches by one writer. A host or plugin that misbehaves costs
its own services only: the daemon keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import math
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.active.execute import execute
from watchkeeper.active.model import ActiveCheck
from watchkeeper.active.pool import HelperPool
from watchkeeper.collect.hosts import HostConfig, make_transport
from watchkeeper.collect.ssh import SshTransport
from watchkeeper.collect.transport import AgentOutput, AgentTransport
from watchkeeper.engine.cycle import failed_cycle, run_host_cycle
from watchkeeper.engine.discovery import discover_in_output
from watchkeeper.engine.model import HostCycle, Outcome, ServiceSpec
from watchkeeper.engine.rules import Rule, rules_for_host
from watchkeeper.errors import CollectError, ConfigError, StoreError
from watchkeeper.notify.delivery import Delivery
from watchkeeper.notify.notifier import Notifier, policy_for
from watchkeeper.notify.states import AlertPolicy
from watchkeeper.paths import Paths
from watchkeeper.schedule.health import Health
from watchkeeper.schedule.passive import PassiveResults
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import Store

log = logging.getLogger(__name__)

RELOAD_INTERVAL_S = 10.0
FLUSH_INTERVAL_S = 1.0
DELIVERY_INTERVAL_S = 5.0
FLUSH_OUTCOMES = 20_000
FIRST_ACTIVE_SPREAD_S = 15.0
MAX_UNWRITTEN_CYCLES = 100_000


@dataclass(slots=True)
class HostRuntime:
    config: HostConfig
    transport: AgentTransport
    due: float
    last_ok: float | None
    value_stores: dict[str, dict[str, Any]] | None = None
    running: bool = False
    up: bool | None = None
    specs: list[ServiceSpec] = field(default_factory=list)
    """The services last read for this host: what a failed cycle marks stale."""


@dataclass(slots=True)
class ActiveRuntime:
    check: ActiveCheck
    due: float
    running: bool = False


@dataclass(slots=True)
class Stats:
    cycles: int = 0
    services_checked: int = 0
    fetch_errors: int = 0
    plugins_run: int = 0
    start_delays: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))
    delay_count: int = 0
    delay_sum: float = 0.0
    """All start delays since start (the deque keeps only the recent ones)."""

    def started_late(self, delay: float) -> None:
        self.start_delays.append(delay)
        self.delay_count += 1
        self.delay_sum += delay


class Scheduler:
    def __init__(self, store: Store, paths: Paths, *, concurrency: int = 64, auto_accept: bool = True,
                 clock: Callable[[], float] = time.time, notifier: Notifier | None = None,
                 delivery: Delivery | None = None, active_concurrency: int = 256) -> None:
        self.store = store
        self.notifier = notifier
        self.delivery = delivery
        self.paths = paths
        self.gate = asyncio.Semaphore(concurrency)
        self.auto_accept = auto_accept
        self.clock = clock
        self.hosts: dict[str, HostRuntime] = {}
        self.active: dict[tuple[str, str], ActiveRuntime] = {}
        self._active_queue: list[tuple[float, tuple[str, str]]] = []
        self.active_gate = asyncio.Semaphore(active_concurrency)
        self.passive = PassiveResults(ActiveTables(store))
        self.plugin_pool = HelperPool()
        self._parsed_specs: dict[tuple[str, str], tuple[str, ActiveCheck]] = {}
        self.rules: list[Rule] = []
        self.stats = Stats()
        self._unwritten: list[HostCycle] = []
        self._unwritten_outcomes = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------ configuration
    async def reload(self) -> None:
        """Pick up hosts and rules added or changed by the CLI while the daemon runs."""
        rows = {row.config.name: row for row in self.store.hosts()}
        self.rules = self.store.rules()
        if self.notifier is not None:
            self.notifier.reload()
        now = self.clock()
        for name in list(self.hosts):
            runtime = self.hosts[name]
            if name not in rows or rows[name].config != runtime.config:
                await runtime.transport.close()
                del self.hosts[name]
        for name, row in rows.items():
            if name in self.hosts:
                continue
            try:
                transport = make_transport(row.config, self.paths)
            except ConfigError as exc:
                log.error("%s is not checked: %s", name, exc)
                continue
            # A host never fetched is due now, so a new installation shows data at once.
            due = now if row.last_fetch is None else _first_due(name, row.config.interval_s, now)
            if row.config.uri == "none":
                due = math.inf  # no agent to fetch: only its active and passive services run
            self.hosts[name] = HostRuntime(row.config, transport, due, row.last_ok)
        self._reload_active(now)
        self._wake.set()

    def _reload_active(self, now: float) -> None:
        checks: dict[tuple[str, str], ActiveCheck] = {}
        for host, name, spec in self.passive.tables.check_specs():
            if host not in self.hosts:
                continue
            known = self._parsed_specs.get((host, name))
            if known is None or known[0] != spec:
                try:
                    known = (spec, ActiveCheck.from_json(host, name, json.loads(spec)))
                except (ValueError, TypeError, ConfigError) as exc:
                    log.error("%s/%s is not checked: %s", host, name, exc)
                    continue
                self._parsed_specs[(host, name)] = known
            checks[(host, name)] = known[1]
        self.passive.reload([c for c in checks.values() if c.passive], now)
        for key in [key for key, runtime in self.active.items() if checks.get(key) != runtime.check]:
            del self.active[key]  # removed or changed: a changed one starts afresh below
        for key, check in checks.items():
            if check.passive or key in self.active:
                continue
            due = _first_due("/".join(key), min(check.interval_s, FIRST_ACTIVE_SPREAD_S), now)
            self.active[key] = ActiveRuntime(check, due)
            heapq.heappush(self._active_queue, (due, key))

    # ------------------------------------------------------------------ one host
    async def check_host(self, runtime: HostRuntime) -> HostCycle:
        """Fetch, parse, check; the cycle is queued for the writer and returned."""
        name = runtime.config.name
        started = self.clock()
        async with self.gate:
            try:
                fetched: AgentOutput | CollectError = await runtime.transport.fetch()
            except CollectError as err:
                fetched = err  # this host's result, not a crash of the scheduler
        if isinstance(fetched, CollectError):
            self.stats.fetch_errors += 1
        if runtime.value_stores is None:
            runtime.value_stores = self.store.value_stores(name)
        specs = runtime.specs = self.store.service_specs(name)
        acked = self.notifier.acknowledged(name) if self.notifier is not None else None
        result = run_host_cycle(name, fetched, specs, rules_for_host(self.rules, name), runtime.value_stores,
                                started, runtime.last_ok, acknowledged=acked)
        if not specs and result.discovered and self.auto_accept:
            self.store.accept_services(name, result.discovered)
            log.info("%s: new host, accepted %d discovered services", name, len(result.discovered))
            # Check them at once from the same output, so a new host shows values, not PENDING.
            runtime.specs = self.store.service_specs(name)
            result = run_host_cycle(name, fetched, runtime.specs, rules_for_host(self.rules, name),
                                    runtime.value_stores, started, runtime.last_ok)
        cycle = result.cycle
        if cycle.up:
            runtime.last_ok = started
        if self.notifier is not None and self.notifier.observe(cycle, policy_for(runtime.config.options)):
            runtime.due = min(runtime.due, started + runtime.config.retry_interval_s)  # confirm a soft problem
        self._log_host_change(runtime, cycle)
        self.stats.cycles += 1
        self.stats.services_checked += len(cycle.outcomes)
        self._queue(cycle)
        return cycle

    def _log_host_change(self, runtime: HostRuntime, cycle: HostCycle) -> None:
        if cycle.up == runtime.up:
            return
        runtime.up = cycle.up
        if cycle.up:
            log.info("%s is UP: %d services checked", cycle.host, len(cycle.outcomes))
        else:
            log.warning("%s is DOWN: %s", cycle.host, cycle.error)

    # ------------------------------------------------------------------ writing
    def flush(self) -> None:
        try:
            for check, outcome, received in self.passive.collect(self.clock()):
                self.record(check, outcome, received)
        except StoreError as exc:
            log.error("passive results wait in the inbox: %s", exc)
        if self.notifier is not None:
            try:
                self.notifier.tick(self.clock())
            except StoreError as exc:
                log.error("alert states not saved, kept in memory: %s", exc)
        if not self._unwritten:
            return
        batch = self._unwritten
        try:
            self.store.write_cycles(batch)
        except StoreError as exc:
            if len(batch) > MAX_UNWRITTEN_CYCLES:  # bounded: keep the newest, say what was dropped
                log.error("dropping %d unwritten cycles, the store has failed for too long",
                          len(batch) - MAX_UNWRITTEN_CYCLES)
                del batch[: len(batch) - MAX_UNWRITTEN_CYCLES]
            log.error("%s (%d cycles wait in memory)", exc, len(batch))
            return
        log.debug("stored %d host cycles", len(batch))
        self._unwritten = []
        self._unwritten_outcomes = 0
        self.passive.written()

    # ------------------------------------------------------------------ the loop
    async def run(self, stop: asyncio.Event, on_flush: Callable[[int], None] | None = None) -> None:
        await self.reload()
        next_reload = self.clock() + RELOAD_INTERVAL_S
        next_flush = self.clock() + FLUSH_INTERVAL_S
        delivering = asyncio.create_task(self._deliver(stop)) if self.delivery is not None else None
        try:
            while not stop.is_set():
                now = self.clock()
                if now >= next_reload:
                    await self.reload()
                    next_reload = now + RELOAD_INTERVAL_S
                if now >= next_flush:
                    written = len(self._unwritten)
                    self.flush()
                    if on_flush is not None and written and not self._unwritten:
                        on_flush(written)
                    next_flush = now + FLUSH_INTERVAL_S
                wake_at = min(next_reload, next_flush, self._start_due(now))
                self._wake.clear()
                stopping = asyncio.ensure_future(stop.wait())
                waking = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait({stopping, waking}, timeout=max(wake_at - self.clock(), 0.0),
                                   return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                waking.cancel()
        finally:
            if delivering is not None:
                await delivering
            await self._shutdown()

    async def _deliver(self, stop: asyncio.Event) -> None:
        assert self.delivery is not None
        while not stop.is_set():
            try:
                await self.delivery.deliver_due()
            except StoreError as exc:
                log.error("notification delivery paused: %s", exc)
            except Exception:  # our own bug: log it, keep delivering
                log.exception("the delivery loop failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=DELIVERY_INTERVAL_S)

    def _start_due(self, now: float) -> float:
        """Start every host that is due; return when the next one will be."""
        queue = [(runtime.due, name) for name, runtime in self.hosts.items() if not runtime.running]
        heapq.heapify(queue)
        while queue and queue[0][0] <= now:
            due, name = heapq.heappop(queue)
            runtime = self.hosts[name]
            self.stats.started_late(now - due)
            interval = runtime.config.interval_s
            runtime.due = due + interval if now - due < interval else now + interval  # late: skip, no burst
            runtime.running = True
            task = asyncio.create_task(self._guarded(runtime))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        next_active = self._start_active(now)
        return min(queue[0][0] if queue else now + 1.0, next_active)

    def _start_active(self, now: float) -> float:
        queue = self._active_queue
        while queue and queue[0][0] <= now:
            due, key = heapq.heappop(queue)
            runtime = self.active.get(key)
            if runtime is None or runtime.due != due or runtime.running:
                continue  # removed or rescheduled since it was queued
            runtime.running = True
            task = asyncio.create_task(self._run_active(runtime))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return queue[0][0] if queue else now + 1.0

    async def _run_active(self, runtime: ActiveRuntime) -> None:
        check = runtime.check
        host = self.hosts.get(check.host)
        started = self.clock()
        retry = False
        try:
            if host is None:
                return
            ssh = host.transport if isinstance(host.transport, SshTransport) else None
            async with self.active_gate:
                self.stats.started_late(self.clock() - runtime.due)  # latency: due until it really starts
                outcome = await execute(check, host.config, ssh, self.plugin_pool.run)
            self.stats.plugins_run += 1
            retry = self.record(check, outcome, started)
        except Exception:  # our own bug: log it, keep the other checks going
            log.exception("%s/%s: the active check failed", check.host, check.name)
        finally:
            runtime.running = False
            if self.active.get((check.host, check.name)) is runtime:
                now = self.clock()
                if retry:  # confirm a soft problem soon
                    runtime.due = now + check.retry_interval_s
                else:  # keep the rhythm; when late by a whole interval, skip rather than burst
                    due = runtime.due + check.interval_s
                    runtime.due = due if due > now else now + check.interval_s
                heapq.heappush(self._active_queue, (runtime.due, (check.host, check.name)))
            self._wake.set()

    def reschedule(self, host: str, service: str | None, when: float) -> bool:
        """Check a host's agent (service None) or one active service at `when`; False if unknown."""
        if service is None:
            runtime = self.hosts.get(host)
            if runtime is None or math.isinf(runtime.due):
                return False
            runtime.due = when
        else:
            active = self.active.get((host, service))
            if active is None:
                return False
            active.due = when
            heapq.heappush(self._active_queue, (when, (host, service)))
        self._wake.set()
        return True

    async def discover(self, host: str) -> list[ServiceSpec]:
        """What discovery finds on a host now, over the host's own connection; nothing is accepted."""
        runtime = self.hosts.get(host)
        if runtime is None or runtime.config.uri == "none":
            raise ConfigError(f"{host} has no agent that the daemon reaches; there is nothing to discover")
        async with self.gate:
            fetched = await runtime.transport.fetch()
        return discover_in_output(fetched.data, host, rules=rules_for_host(self.rules, host))

    def health(self) -> Health:
        return Health(hosts=len(self.hosts), active_checks=len(self.active), cycles=self.stats.cycles,
                      services_checked=self.stats.services_checked, fetch_errors=self.stats.fetch_errors,
                      plugins_run=self.stats.plugins_run, unwritten_cycles=len(self._unwritten),
                      start_delays=tuple(itertools.islice(reversed(self.stats.start_delays), 1000)),
                      delay_count=self.stats.delay_count, delay_sum=self.stats.delay_sum)

    def record(self, check: ActiveCheck, outcome: Outcome, started: float) -> bool:
        """Queue an active or passive result for the writer; True when it is a soft problem."""
        if check.host_check:
            up = outcome.state in (0, 1)
            cycle = HostCycle(check.host, started, up, "" if up else outcome.summary, [outcome])
        else:
            cycle = HostCycle(check.host, started, True, "", [outcome], partial=True)
        soft = False
        if self.notifier is not None:
            soft = self.notifier.observe(cycle, AlertPolicy(max_attempts=check.max_attempts))
        self.stats.services_checked += 1
        self._unwritten.append(cycle)
        self._unwritten_outcomes += 1
        if self._unwritten_outcomes >= FLUSH_OUTCOMES:
            self.flush()
        return soft

    async def _guarded(self, runtime: HostRuntime) -> None:
        name = runtime.config.name
        try:
            await self.check_host(runtime)
        except Exception as exc:  # our bug or a store that fails: log it, keep every other host going
            if isinstance(exc, StoreError):
                log.error("%s: %s", name, exc)
                reason = str(exc)
            else:
                log.exception("%s: the check cycle failed", name)
                reason = f"{type(exc).__name__}: {str(exc)[:200]} (a bug: the traceback is in the daemon's log)"
            # never leave the last results standing as if they were current
            cycle = failed_cycle(name, reason, runtime.specs, self.clock())
            if self.notifier is not None:
                try:
                    self.notifier.observe(cycle, policy_for(runtime.config.options))
                except Exception:  # the notifier may be what failed: the stale states are still written
                    log.exception("%s: the failed cycle could not be told to the notifier", name)
            self._queue(cycle)
        finally:
            runtime.running = False
            self._wake.set()

    def _queue(self, cycle: HostCycle) -> None:
        self._unwritten.append(cycle)
        self._unwritten_outcomes += len(cycle.outcomes)
        if self._unwritten_outcomes >= FLUSH_OUTCOMES:
            self.flush()

    async def _shutdown(self) -> None:
        """Checks that finish within SHUTDOWN_GRACE_S are stored; the rest (hung agents or plugins,
        waiting for their own time-outs) are cancelled, which kills what they started."""
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=SHUTDOWN_GRACE_S)
            if pending:
                log.info("stopping %d checks still running (hung agents or plugins)", len(pending))
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending, timeout=SHUTDOWN_GRACE_S)
        self.flush()
        for runtime in self.hosts.values():
            await runtime.transport.close()
        await self.plugin_pool.close()


SHUTDOWN_GRACE_S = 3.0


def _first_due(name: str, interval_s: float, now: float) -> float:
    """A stable offset in the interval per host name: restarts do not bunch hosts up."""
    offset = (zlib.crc32(name.encode()) / 2**32) * interval_s
    due = now - now % interval_s + offset
    return due if due >= now else due + interval_s
