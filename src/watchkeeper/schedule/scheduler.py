"""When to check which host. Knows nothing about what a check does.

Each host is due every `interval_s`, at a fixed offset inside the interval derived from its
name, so a thousand hosts with the same interval spread out instead of arriving together.
Fetches run concurrently up to a bound; parsing and checking run synchronously in the
loop; every finished cycle goes to the results sink (`sink/results.py`), which observes,
batches, writes and ticks. Configuration is re-read only when the store's configuration
counter moved (checked every second), and read on a thread of its own. A host or plugin
that misbehaves costs its own services only: the daemon keeps running.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import itertools
import json
import logging
import math
import time
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.active.execute import execute, plugin_argv, runs_here
from watchkeeper.active.pool import HelperPool
from watchkeeper.active.verdict import outcome_of
from watchkeeper.collect.hosts import make_transport
from watchkeeper.collect.piggyback import DEFAULT_AGE_INTERVALS, PiggybackHub, labels_in
from watchkeeper.collect.ssh import SshTransport
from watchkeeper.collect.transport import AgentOutput, AgentTransport
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.engine.checking import ParsedHost
from watchkeeper.engine.cycle import Discovery, failed_cycle, run_host_cycle
from watchkeeper.engine.discovery import discover_in_output
from watchkeeper.errors import CollectError, ConfigError, StoreError
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.baselines import Baseline
from watchkeeper.model.cycles import HostCycle, Outcome, ServiceSpec
from watchkeeper.model.health import Health
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.plugin_runs import DEFAULT_PLUGIN_OUTPUT_BYTES, PluginRun
from watchkeeper.model.rules import Rule, rules_for_host
from watchkeeper.notify.notifier import Notifier, policy_for
from watchkeeper.paths import Paths
from watchkeeper.sink.passive import PassiveResults
from watchkeeper.sink.results import ResultsSink
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.baseline_tables import BaselineTables
from watchkeeper.store.database import HostRow, Store
from watchkeeper.store.inventory_tables import InventoryTables

log = logging.getLogger(__name__)

CONFIG_POLL_S = 0.5
"""How often the configuration counters are read: a change is applied within a second."""
TICK_S = 0.02
"""Checks start on the loop's ticks: what falls due within one starts together, its plugin
requests in one write to the helpers. At 500 plugins a second, a wake-up per plugin (in the
daemon and in its helper) cost more than the rest of an active check; a check now starts at
most this late, where Nagios's own latency is three times that."""
NEW_CHECK_SPREAD_S = 0.01
"""Checks added while the daemon runs start within this many seconds each (a new host shows data
at once, a thousand new hosts spread over ten seconds); at start they spread over their interval."""


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
    specs_epoch: int = -1
    """The configuration epoch `specs` were read in; read again when the scheduler's moved on."""
    discovery: Discovery | None = None
    parsed: ParsedHost | None = None
    """The last output's parsed sections: unchanged ones are not parsed again."""
    params: dict[str, Any] = field(default_factory=dict)
    """Each service's parameters, built from rules and facts once per configuration epoch."""
    ignored: frozenset[str] = frozenset()
    """Services discovery is not to offer, read with `specs`."""


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


@dataclass(frozen=True, slots=True)
class ConfigSnapshot:
    """What changed in the configuration, as read from the store on the configuration thread;
    a part that did not change is None."""

    counters: dict[str, int]
    hosts: dict[str, HostRow] | None
    rules: list[Rule] | None
    checks: dict[tuple[str, str], ActiveCheck] | None
    passive_results: dict[tuple[str, str], float] | None
    """When each passive service last had a result (read with the checks)."""
    notifications_changed: bool
    services_changed: bool
    baselines: dict[str, dict[str, dict[str, Baseline]]] | None = None


NOTIFY_TABLES = ("downtimes", "acknowledgements", "notify_channels", "notify_contacts", "notify_rules", "hosts")
SERVICE_TABLES = ("services", "rules", "ignored_services")
CHECK_TABLES = ("active_checks",)
"""Removing a host removes its checks too: adding or changing one leaves the checks as they are."""
APPLY_CHUNK = 5_000
"""Checks compared between two turns of the event loop when a change is applied."""


class Scheduler:
    def __init__(self, store: Store, paths: Paths, *, concurrency: int = 64, auto_accept: bool = True,
                 clock: Callable[[], float] = time.time, notifier: Notifier | None = None,
                 active_concurrency: int = 256,
                 sink: ResultsSink | None = None, freeze_gc: bool = False) -> None:
        """`freeze_gc`: after each configuration change, move every object alive to the
        collector's permanent generation (the daemon does; it would hold a test run's garbage)."""
        self.store = store
        self.notifier = notifier
        self.paths = paths
        self.gate = asyncio.Semaphore(concurrency)
        self.auto_accept = auto_accept
        self.clock = clock
        self.hosts: dict[str, HostRuntime] = {}
        self.active: dict[tuple[str, str], ActiveRuntime] = {}
        self._active_queue: list[tuple[float, tuple[str, str]]] = []
        self._host_queue: list[tuple[float, str]] = []
        """Hosts by when they are due; an entry whose host has since moved on is skipped."""
        self._wake_at = -math.inf
        """When the loop plans to look again: a check that falls due before that wakes it."""
        self.active_limit = active_concurrency
        self._stopping = False
        self._active_running = 0
        self._active_idle = asyncio.Event()
        self._active_idle.set()
        if sink is None:  # the daemon hands in its own (`daemon.py`); tests and benchmarks get this one
            sink = ResultsSink(Store(store.path), PassiveResults(ActiveTables(store)), notifier=notifier, clock=clock)
        self.sink = sink
        self.passive = sink.passive
        self.piggyback = PiggybackHub(clock)
        """What hosts' outputs say about other hosts (a hypervisor about its domains)."""
        self._recorded_targets: dict[str, dict[str, dict[str, str]]] | None = None
        """Per source host, the hosts (and their labels) last recorded for inventory sources."""
        self.plugin_pool = HelperPool()
        self._reader = Store(store.path)
        """The configuration thread's own connection."""
        self._reading = ThreadPoolExecutor(max_workers=1, thread_name_prefix="config-reader")
        self._parsed_specs: dict[tuple[str, str], tuple[str, ActiveCheck]] = {}
        self._host_rows: dict[str, HostRow] = {}
        """The hosts as last read (by the configuration thread): active checks of others are dropped."""
        self.rules: list[Rule] = []
        self.baselines: dict[str, dict[str, dict[str, Baseline]]] = {}
        """Learned baselines: host -> service -> metric (`model/baselines.py`)."""
        self.counters: dict[str, int] = {}
        self.epoch = 0
        """Raised on every configuration change: hosts read their services and discover again."""
        self.stats = Stats()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._started = False
        self.freeze_gc = freeze_gc

    # ------------------------------------------------------------------ configuration
    async def reload(self) -> None:
        """Apply hosts, rules and checks changed by the CLI, the web or Livestatus. The store is
        read on the configuration thread; only the comparison runs in the event loop."""
        read = asyncio.get_running_loop().run_in_executor(self._reading, self._read_config)
        if not self.freeze_gc:
            await self._apply(await read)
            return
        # The configuration's objects live as long as the daemon: no collection while they are
        # read and made (full collections of the growing heap stalled the loop 0.15 s each),
        # then they move to the collector's permanent generation, which it never scans. The
        # cost: cycles among objects that a later change replaces are not collected.
        gc.disable()
        try:
            await self._apply(await read)
        finally:
            gc.freeze()
            gc.enable()

    async def reload_if_changed(self) -> bool:
        counters = await asyncio.get_running_loop().run_in_executor(self._reading, self._reader.config_counters)
        if counters == self.counters:
            return False
        await self.reload()
        return True

    def _read_config(self) -> ConfigSnapshot:
        """On the configuration thread: one consistent read of the tables whose counter moved."""
        reader = self._reader
        before = self.counters
        with reader.transaction("reading the configuration"):
            counters = reader.config_counters()
            changed = {name for name, n in counters.items() if before.get(name) != n}
            hosts = {row.config.name: row for row in reader.hosts()} if "hosts" in changed else None
            rules = reader.rules() if "rules" in changed else None
            specs = ActiveTables(reader).check_specs() if changed & set(CHECK_TABLES) else None
            passive = ({(host, name): when for host, name, when in reader.query(
                "SELECT host, name, last_check FROM services WHERE plugin = 'passive' AND last_check IS NOT NULL")}
                if specs is not None else None)
            baselines = BaselineTables(reader).baselines() if "metric_baselines" in changed else None
        if hosts is not None:
            self._host_rows = hosts
        checks: dict[tuple[str, str], ActiveCheck] | None = None
        if specs is not None:
            checks = {}
            known_specs = self._parsed_specs
            parsed: dict[tuple[str, str], tuple[str, ActiveCheck]] = {}
            for host, name, spec in specs:
                if host not in self._host_rows:
                    continue
                known = known_specs.get((host, name))
                if known is None or known[0] != spec:
                    try:
                        known = (spec, ActiveCheck.from_json(host, name, json.loads(spec)))
                    except (ValueError, TypeError, ConfigError) as exc:
                        log.error("%s/%s is not checked: %s", host, name, exc)
                        continue
                parsed[(host, name)] = known
                checks[(host, name)] = known[1]  # the same object while its spec is unchanged
            self._parsed_specs = parsed
        return ConfigSnapshot(counters, hosts, rules, checks, passive, bool(changed & set(NOTIFY_TABLES)),
                              bool(changed & set(SERVICE_TABLES)), baselines)

    async def _apply(self, snapshot: ConfigSnapshot) -> None:
        if snapshot.rules is not None:
            self.rules = snapshot.rules
        if snapshot.baselines is not None:
            self.baselines = snapshot.baselines
        self.counters = snapshot.counters
        if snapshot.services_changed:
            self.epoch += 1
            self.sink.services_changed()
        if self.notifier is not None and snapshot.notifications_changed:
            self.notifier.reload()
        now = self.clock()
        if snapshot.hosts is not None:
            self._apply_hosts(snapshot.hosts, now)
        if snapshot.checks is not None:
            await self._apply_active(snapshot.checks, snapshot.passive_results or {}, now)
        self._started = True
        self._wake.set()

    def _apply_hosts(self, rows: dict[str, HostRow], now: float) -> None:
        for name in list(self.hosts):
            runtime = self.hosts[name]
            if name not in rows or rows[name].config != runtime.config:
                task = asyncio.ensure_future(runtime.transport.close())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                del self.hosts[name]
                if name not in rows:
                    self.sink.forget_host(name)
                    self.piggyback.forget_source(name)
        new = [row for name, row in rows.items() if name not in self.hosts]
        spread = NEW_CHECK_SPREAD_S * len(new)
        for row in new:
            name = row.config.name
            try:
                transport = make_transport(row.config, self.paths, builtin_catalog().snmp_sections, self.piggyback)
            except ConfigError as exc:
                log.error("%s is not checked: %s", name, exc)
                continue
            # A host never fetched is due at once (spread a little when many are new), so a new
            # installation shows data; the others keep their place in the interval.
            interval = row.config.interval_s
            due = _first_due(name, min(interval, spread) if row.last_fetch is None else interval, now)
            if row.config.uri == "none":
                due = math.inf  # no agent to fetch: only its active and passive services run
            elif row.config.uri == "piggyback":  # checked when its data comes (at once if it is here)
                due = now + min(interval, spread) if self.piggyback.speaks_of(name) else _piggyback_fallback(
                    row.config, now)
            runtime = self.hosts[name] = HostRuntime(row.config, transport, due, row.last_ok)
            self._queue_host(runtime)

    async def _apply_active(self, checks: dict[tuple[str, str], ActiveCheck],
                            last_results: dict[tuple[str, str], float], now: float) -> None:
        """Compare in chunks, letting other work run in between: 100,000 checks took 0.1 s."""
        self.passive.reload([c for c in checks.values() if c.passive], now, last_results)
        active = self.active
        for index, key in enumerate([key for key, runtime in active.items() if checks.get(key) is not runtime.check]):
            active.pop(key, None)  # removed or changed: a changed one starts afresh below
            if index % APPLY_CHUNK == APPLY_CHUNK - 1:
                await asyncio.sleep(0)
        new = [(key, check) for key, check in checks.items() if not check.passive and key not in active]
        spread = NEW_CHECK_SPREAD_S * len(new)
        for index, (key, check) in enumerate(new):
            # at start, spread over the whole interval; added later, start soon
            due = _first_due("/".join(key), min(check.interval_s, spread) if self._started else check.interval_s,
                             now)
            active[key] = ActiveRuntime(check, due)
            heapq.heappush(self._active_queue, (due, key))
            if index % APPLY_CHUNK == APPLY_CHUNK - 1:
                await asyncio.sleep(0)

    # ------------------------------------------------------------------ one host
    async def check_host(self, runtime: HostRuntime) -> HostCycle:
        """Fetch, parse, check; the cycle goes to the results sink and is returned."""
        name = runtime.config.name
        started = self.clock()
        async with self.gate:
            try:
                fetched: AgentOutput | CollectError = await runtime.transport.fetch()
            except CollectError as err:
                fetched = err  # this host's result, not a crash of the scheduler
        if isinstance(fetched, CollectError):
            self.stats.fetch_errors += 1
        elif runtime.config.uri != "piggyback" and self.piggyback.speaks_of(name):
            fetched = self._with_piggyback(runtime.config, fetched)
        if runtime.value_stores is None:
            runtime.value_stores = self.store.value_stores(name)
        if runtime.specs_epoch != self.epoch:  # the configuration changed: services and discovery afresh
            runtime.specs = self.store.service_specs(name)
            runtime.ignored = frozenset(self.store.ignored_services(name))
            runtime.specs_epoch = self.epoch
            runtime.discovery = None
            runtime.params = {}
        specs = runtime.specs
        acked = self.notifier.acknowledged(name) if self.notifier is not None else None
        rules = rules_for_host(self.rules, name, runtime.config.opts.labels)
        baselines = self.baselines.get(name)
        result = run_host_cycle(name, fetched, specs, rules, runtime.value_stores, started, runtime.last_ok,
                                acknowledged=acked, discovery=runtime.discovery, previous=runtime.parsed,
                                params_cache=runtime.params, baselines=baselines, ignored=runtime.ignored)
        if not specs and result.discovered and self.auto_accept and result.cycle.up and (
                offered := [spec for spec in result.discovered if spec.name not in runtime.ignored]):
            self.store.accept_services(name, offered)
            log.info("%s: new host, accepted %d discovered services", name, len(offered))
            # Check them at once from the same output, so a new host shows values, not PENDING.
            runtime.specs = self.store.service_specs(name)
            result = run_host_cycle(name, fetched, runtime.specs, rules, runtime.value_stores, started,
                                    runtime.last_ok, discovery=result.discovery, previous=result.parsed,
                                    params_cache=runtime.params, baselines=baselines, ignored=runtime.ignored)
        runtime.discovery = result.discovery
        runtime.parsed = result.parsed.for_next_cycle() if result.parsed is not None else None
        if result.piggyback is not None and (result.piggyback or self.piggyback.targets(name)):
            self._piggyback_arrived(name, started, result.piggyback, runtime.config.interval_s)
        cycle = result.cycle
        if cycle.up:
            runtime.last_ok = started
        self._log_host_change(runtime, cycle)
        self.stats.cycles += 1
        self.stats.services_checked += len(cycle.outcomes)
        if self.sink.put(cycle, policy_for(runtime.config)):
            runtime.due = min(runtime.due, started + runtime.config.retry_interval_s)  # confirm a soft problem
        return cycle

    def _with_piggyback(self, config: HostConfig, fetched: AgentOutput) -> AgentOutput:
        """The host's own output, then what other hosts said of it (after closing any piggyback
        block the host's output left open)."""
        extra = self.piggyback.output(config.name, config.opts.piggyback_max_age_s)
        if extra is None:
            return fetched
        return AgentOutput(fetched.data + b"\n<<<<>>>>\n" + extra.encode(), fetched.truncated, fetched.limit,
                           fetched.seconds)

    def _piggyback_arrived(self, source: str, at: float, data: dict[str, str], interval_s: float) -> None:
        """Keep what `source` said of other hosts; a host that has nothing but such data is checked now.
        Which hosts it speaks of, with their labels, is recorded for inventory sources when it changes."""
        targets = self.piggyback.put(source, at, data, interval_s)
        for target in targets:
            runtime = self.hosts.get(target)
            if runtime is not None and runtime.config.uri == "piggyback":
                runtime.due = at
                if not runtime.running:
                    self._queue_host(runtime)
        tables = InventoryTables(self.store)
        try:
            if self._recorded_targets is None:
                self._recorded_targets = {}
                for known_source, target, labels in tables.piggyback_targets():
                    self._recorded_targets.setdefault(known_source, {})[target] = labels
            now_said = {target: labels_in(data[target]) for target in targets}
            if self._recorded_targets.get(source, {}) != now_said:
                tables.set_piggyback_targets(source, now_said, at)
                self._recorded_targets[source] = now_said
        except StoreError as exc:  # the checks go on; recorded with the next output
            log.error("%s: the hosts its output speaks of are not recorded for inventory: %s", source, exc)

    def _log_host_change(self, runtime: HostRuntime, cycle: HostCycle) -> None:
        if cycle.up == runtime.up:
            return
        runtime.up = cycle.up
        if cycle.up:
            log.info("%s is UP: %d services checked", cycle.host, len(cycle.outcomes))
        else:
            log.warning("%s is DOWN: %s", cycle.host, cycle.error)

    # ------------------------------------------------------------------ the loop
    async def run(self, stop: asyncio.Event, on_flush: Callable[[int], None] | None = None) -> None:
        """`on_flush(cycles)` is called after each write that stored cycles (tests stop on it)."""
        await self.reload()
        self.sink.on_written = on_flush
        next_poll = self.clock() + CONFIG_POLL_S
        writing = asyncio.create_task(self.sink.run(stop))
        try:
            loop = asyncio.get_running_loop()
            stopping = asyncio.create_task(self._wake_on(stop))
            while not stop.is_set():
                now = self.clock()
                if now >= next_poll:
                    try:
                        await self.reload_if_changed()
                    except StoreError as exc:
                        log.error("configuration changes wait: %s", exc)
                    next_poll = self.clock() + CONFIG_POLL_S
                self._wake.clear()
                self._wake_at = min(next_poll, self._start_due(self.clock()))
                self._wake_at = math.ceil(self._wake_at / TICK_S) * TICK_S
                # One timer and one wait per turn; finished checks wake the loop only when what
                # they queued is due before this (one wake-up per plugin cost more than the plugin).
                timer = loop.call_later(max(self._wake_at - self.clock(), 0.0), self._wake.set)
                await self._wake.wait()
                timer.cancel()
                self._wake_at = -math.inf
            await stopping
        finally:
            await writing
            await self._shutdown()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    def _due_changed(self, when: float) -> None:
        if when < self._wake_at:
            self._wake.set()

    def _queue_host(self, runtime: HostRuntime) -> None:
        if not math.isinf(runtime.due):
            heapq.heappush(self._host_queue, (runtime.due, runtime.config.name))
            self._due_changed(runtime.due)

    def _start_due(self, now: float) -> float:
        """Start every host that is due; return when the next one will be."""
        queue = self._host_queue
        while queue and queue[0][0] <= now:
            due, name = heapq.heappop(queue)
            runtime = self.hosts.get(name)
            if runtime is None or runtime.running or runtime.due != due:
                continue  # removed, running, or rescheduled since it was queued
            self.stats.started_late(now - due)
            interval = runtime.config.interval_s
            if runtime.config.uri == "piggyback":  # checked when its data comes; this is the fallback
                runtime.due = _piggyback_fallback(runtime.config, now)
            else:
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
            if self._active_running >= self.active_limit:
                return now + 1.0  # a check that finishes wakes the loop (`_active_done`)
            due, key = heapq.heappop(queue)
            runtime = self.active.get(key)
            if runtime is None or runtime.due != due or runtime.running:
                continue  # removed or rescheduled since it was queued
            runtime.running = True
            self._active_running += 1
            self._active_idle.clear()
            self._launch_active(runtime)
        return queue[0][0] if queue else now + 1.0

    def _launch_active(self, runtime: ActiveRuntime) -> None:
        """A plugin that runs here goes to the helper pool with a callback, not a task: at a few
        hundred checks a second, a task, a future and a semaphore per check were a third of
        the daemon's share. One that runs over SSH gets a task."""
        check = runtime.check
        host = self.hosts.get(check.host)
        started = self.clock()
        if host is None:
            self._active_done(runtime, None, started)
            return
        self.stats.started_late(started - runtime.due)  # latency: due until it really starts
        if not runs_here(check, host.config):
            ssh = host.transport if isinstance(host.transport, SshTransport) else None
            task = asyncio.create_task(self._run_over_ssh(runtime, host.config, ssh, started))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        argv = plugin_argv(check, host.config)
        if isinstance(argv, Outcome):
            self._active_done(runtime, argv, started)
            return

        def ran(run: PluginRun) -> None:
            self._active_done(runtime, outcome_of(check.name, run, check.timeout_s), started)

        try:
            self.plugin_pool.submit(argv, check.timeout_s, DEFAULT_PLUGIN_OUTPUT_BYTES, ran)
        except OSError as exc:  # no helper could be started (no processes or memory left)
            ran(PluginRun(error=f"the plugin helper could not be started: {exc}"))

    @property
    def active_running(self) -> int:
        """Active checks started and not finished."""
        return self._active_running

    async def active_settled(self) -> None:
        """Until no active check runs (the ones started so far have their results in the sink)."""
        await self._active_idle.wait()

    async def _run_over_ssh(self, runtime: ActiveRuntime, host: HostConfig, ssh: SshTransport | None,
                            started: float) -> None:
        outcome = None
        try:
            outcome = await execute(runtime.check, host, ssh)
        except Exception:  # our own bug: log it, keep the other checks going
            log.exception("%s/%s: the active check failed", runtime.check.host, runtime.check.name)
        finally:
            self._active_done(runtime, outcome, started)

    def _active_done(self, runtime: ActiveRuntime, outcome: Outcome | None, started: float) -> None:
        """A check's result to the sink, and the check back in the queue."""
        check = runtime.check
        retry = False
        try:
            if outcome is not None and not self._stopping:
                self.stats.plugins_run += 1
                retry = self.sink.put_result(check, outcome, started)
        except Exception:  # our own bug: log it, keep the other checks going
            log.exception("%s/%s: the active check failed", check.host, check.name)
        runtime.running = False
        self._active_running -= 1
        if not self._active_running:
            self._active_idle.set()
        if self._active_running == self.active_limit - 1:
            self._wake.set()  # the loop may have stopped starting checks at the limit
        if self.active.get((check.host, check.name)) is runtime:
            now = self.clock()
            if retry:  # confirm a soft problem soon
                runtime.due = now + check.retry_interval_s
            else:  # keep the rhythm; when late by a whole interval, skip rather than burst
                due = runtime.due + check.interval_s
                runtime.due = due if due > now else now + check.interval_s
            heapq.heappush(self._active_queue, (runtime.due, (check.host, check.name)))
            self._due_changed(runtime.due)

    def reschedule(self, host: str, service: str | None, when: float) -> bool:
        """Check a host's agent (service None, or one of its agent's services: they come from one
        fetch) or one active service at `when`; False if nothing is checked under that name."""
        active = self.active.get((host, service)) if service is not None else None
        if active is not None and service is not None:
            active.due = when
            heapq.heappush(self._active_queue, (when, (host, service)))
        else:
            runtime = self.hosts.get(host)
            if runtime is None or math.isinf(runtime.due):
                return False
            if service is not None and runtime.specs and not any(spec.name == service for spec in runtime.specs):
                return False
            runtime.due = when
            if not runtime.running:
                self._queue_host(runtime)
        self._wake.set()
        return True

    async def discover(self, host: str) -> list[ServiceSpec]:
        """What discovery finds on a host now, over the host's own connection; nothing is accepted."""
        runtime = self.hosts.get(host)
        if runtime is None or runtime.config.uri == "none":
            raise ConfigError(f"{host} has no agent that the daemon reaches; there is nothing to discover")
        async with self.gate:
            fetched = await runtime.transport.fetch()
        rules = rules_for_host(self.rules, host, runtime.config.opts.labels)
        return discover_in_output(fetched.data, host, rules=rules)

    def health(self) -> Health:
        return Health(hosts=len(self.hosts), active_checks=len(self.active), cycles=self.stats.cycles,
                      services_checked=self.stats.services_checked, fetch_errors=self.stats.fetch_errors,
                      plugins_run=self.stats.plugins_run, unwritten_cycles=len(self.sink.unwritten),
                      start_delays=tuple(itertools.islice(reversed(self.stats.start_delays), 1000)),
                      delay_count=self.stats.delay_count, delay_sum=self.stats.delay_sum)

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
            self.sink.put(failed_cycle(name, reason, runtime.specs, self.clock()), policy_for(runtime.config))
        finally:
            runtime.running = False
            if self.hosts.get(name) is runtime:
                self._queue_host(runtime)

    async def _shutdown(self) -> None:
        """Checks that finish within SHUTDOWN_GRACE_S are stored; the rest (hung agents or plugins,
        waiting for their own time-outs) are cancelled, which kills what they started."""
        settled = asyncio.ensure_future(self.active_settled())  # plugins in the helpers are no tasks
        _, pending = await asyncio.wait({*self._tasks, settled}, timeout=SHUTDOWN_GRACE_S)
        settled.cancel()
        pending.discard(settled)
        running = len(pending) + self._active_running
        self._stopping = True  # what the helpers answer from now on is not stored
        if running:
            log.info("stopping %d checks still running (hung agents or plugins)", running)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=SHUTDOWN_GRACE_S)
        self.sink.close()
        for runtime in self.hosts.values():
            await runtime.transport.close()
        await self.plugin_pool.close()
        self._reading.shutdown()
        self._reader.close()
        self.sink.writer.close()


SHUTDOWN_GRACE_S = 3.0


def _piggyback_fallback(config: HostConfig, now: float) -> float:
    """When a host with only piggyback data is checked if no data comes for it (then it is DOWN,
    saying whose data it had last)."""
    interval = config.interval_s
    return now + interval + (config.opts.piggyback_max_age_s or DEFAULT_AGE_INTERVALS * interval)


def _first_due(name: str, interval_s: float, now: float) -> float:
    """A stable offset in the interval per host name: restarts do not bunch hosts up."""
    offset = (zlib.crc32(name.encode()) / 2**32) * interval_s
    due = now - now % interval_s + offset
    return due if due >= now else due + interval_s
