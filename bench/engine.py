"""Engine benchmark: N simulated hosts replay real agent outputs through the whole pipeline
(fetch -> split -> parse -> check -> store) in one process on one core. Prints JSON.

    python bench/engine.py --hosts 2000 --interval 15 --seconds 60

Two measurements:
- capacity: every host checked back to back for a few rounds, as fast as one core goes;
- scheduled: the real scheduler at a steady load of hosts x services per interval, with the
  delay between when each host was due and when it started (p95 must stay under 2 s).
For scale, the same run times fork+exec of /bin/true, the cost Nagios pays per active check.

The snapshots are this machine's own agent output, taken a second apart, so counters advance
and rate checks do real work instead of waiting for a second sample.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from watchkeeper.collect.local import default_agent_command
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.daemon import tune_garbage_collector
from watchkeeper.errors import StoreError
from watchkeeper.model.hosts import HostConfig
from watchkeeper.notify.notifier import Notifier
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store import chunks
from watchkeeper.store.database import Store
from watchkeeper.store.metric_history import head_buckets
from watchkeeper.store.notify_tables import NotifyTables
from watchkeeper.store.schema import CHUNK_TABLES


class LagMonitor:
    """How late a 10 ms timer fires: the longest the event loop was busy with something else."""

    def __init__(self) -> None:
        self.lags: list[float] = []

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lags.append(time.perf_counter() - before - 0.01)

    def figures(self) -> dict[str, float]:
        lags = sorted(self.lags)
        if not lags:
            return {}
        return {"loop_lag_p99_ms": round(1000 * lags[int(0.99 * (len(lags) - 1))], 1),
                "loop_lag_max_ms": round(1000 * lags[-1], 1)}


class Replay:
    """Hands out the snapshots in order, one per fetch, staying on the last one."""

    def __init__(self, snapshots: list[bytes]) -> None:
        self.snapshots = snapshots
        self.index = 0

    async def fetch(self) -> AgentOutput:
        data = self.snapshots[min(self.index, len(self.snapshots) - 1)]
        self.index += 1
        return AgentOutput(data)

    async def close(self) -> None:
        return None


def take_snapshots(count: int) -> list[bytes]:
    snapshots = []
    for index in range(count):
        if index:
            time.sleep(1.0)  # the agent's clock and counters must move between snapshots
        snapshots.append(subprocess.run(default_agent_command(), check=True, capture_output=True).stdout)
    return snapshots


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def with_alerting(store: Store, home: Path) -> Scheduler:
    """The scheduler as the daemon runs it: every result also goes through the notifier."""
    tables = NotifyTables(store)
    tables.seed_defaults()
    return Scheduler(store, Paths(home), notifier=Notifier(tables))


async def capacity(store: Store, home: Path, snapshots: list[bytes], rounds: int) -> dict[str, float | None]:
    scheduler = with_alerting(store, home)
    await scheduler.reload()
    for runtime in scheduler.hosts.values():
        runtime.transport = Replay(snapshots)
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    steady_cpu, steady_services = 0.0, 0
    for index in range(rounds):
        round_cpu, round_services = cpu_seconds(), scheduler.stats.services_checked
        await asyncio.gather(*(scheduler.check_host(runtime) for runtime in scheduler.hosts.values()))
        scheduler.sink.flush_now()
        if index:  # the first round discovers and accepts every host's services
            steady_cpu += cpu_seconds() - round_cpu
            steady_services += scheduler.stats.services_checked - round_services
    wall, cpu = time.perf_counter() - start_wall, cpu_seconds() - start_cpu
    services = scheduler.stats.services_checked
    scheduler.sink.close()
    return {"services": services, "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "services_per_second": round(services / wall), "services_per_minute_one_core": round(60 * services / cpu),
            "cpu_seconds_per_1000_services": round(1000 * cpu / services, 3),
            "steady_rounds_services_per_second_one_core": round(steady_services / steady_cpu) if steady_cpu else None,
            "steady_rounds_cpu_seconds_per_1000_services": (round(1000 * steady_cpu / steady_services, 3)
                                                            if steady_services else None)}


async def scheduled(store: Store, home: Path, snapshots: list[bytes], seconds: float) -> dict[str, float | None]:
    scheduler = with_alerting(store, home)
    stop = asyncio.Event()

    async def run() -> None:
        await scheduler.run(stop)

    lag = LagMonitor()
    lagging = asyncio.create_task(lag.run(stop))
    task = asyncio.create_task(run())
    while not scheduler.hosts:
        await asyncio.sleep(0.01)  # the scheduler's first reload; bench only, not a test
    for runtime in scheduler.hosts.values():
        runtime.transport = Replay(snapshots[1:])
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    await asyncio.sleep(seconds)
    stop.set()
    await task
    await lagging
    wall, cpu = time.perf_counter() - start_wall, cpu_seconds() - start_cpu
    delays = sorted(scheduler.stats.start_delays)
    services = scheduler.stats.services_checked
    return {"services": services, "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "services_per_minute": round(60 * services / wall), "cpu_busy_percent": round(100 * cpu / wall, 1),
            "cpu_seconds_per_1000_services": round(1000 * cpu / max(services, 1), 3),
            "start_delay_p50_seconds": round(statistics.median(delays), 3) if delays else None,
            "start_delay_p95_seconds": round(delays[int(0.95 * (len(delays) - 1))], 3) if delays else None,
            "start_delay_max_seconds": round(delays[-1], 3) if delays else None, **lag.figures()}


def metric_samples(store: Store) -> dict[str, float]:
    """Samples in the 1-minute tier (each counted once however coarse tiers roll them up) and
    the bytes of the metric history's tables and index, where SQLite can say (its dbstat table)."""
    samples = sum(n for (data,) in store.query(f"SELECT data FROM {CHUNK_TABLES[0]}")
                  for _, n, *_ in chunks.decode(data))
    samples += sum(len(head_buckets(0, 0, data)) for (data,) in store.query(
        "SELECT data FROM metric_heads WHERE tier = 0 UNION ALL "
        "SELECT s.data FROM metric_segments s JOIN metric_heads h ON h.key = s.key WHERE h.tier = 0"))
    try:
        size = store.query("SELECT sum(pgsize) FROM dbstat WHERE name IN ('metric_heads', 'metric_segments', "
                           "'metric_segments_key') OR name LIKE '%metric_chunks%'")[0][0]
    except StoreError:
        size = None
    return {"samples": samples, "bytes_per_sample": round(size / samples, 2) if size and samples else 0.0}


def fork_exec_per_check(count: int) -> dict[str, float]:
    start_wall, start_cpu = time.perf_counter(), _children_cpu()
    for _ in range(count):
        subprocess.run(["/bin/true"], check=True)
    wall = time.perf_counter() - start_wall
    return {"checks": count, "checks_per_second": round(count / wall),
            "cpu_seconds_per_1000_checks_children": round(1000 * (_children_cpu() - start_cpu) / count, 3)}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between checks of one host")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the scheduled run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the capacity run")
    args = parser.parse_args()

    snapshots = take_snapshots(args.rounds + 2 + int(args.seconds // args.interval))
    tune_garbage_collector()  # as the daemon does
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = Store(home / "watchkeeper.db")
        for index in range(args.hosts):
            store.add_host(HostConfig(f"host{index:05d}", "local", args.interval))
        cap = asyncio.run(capacity(store, home, snapshots, args.rounds))
        sched = asyncio.run(scheduled(store, home, snapshots[args.rounds:], args.seconds))
        database_bytes = sum(p.stat().st_size for p in home.glob("watchkeeper.db*"))
        samples = metric_samples(store)
        store.close()
    services_per_host = cap["services"] / (args.hosts * args.rounds)
    result = {
        "benchmark": "engine", "python": sys.version.split()[0], "hosts": args.hosts,
        "services_per_host": round(services_per_host, 1), "interval_seconds": args.interval,
        "offered_services_per_minute": round(args.hosts * services_per_host * 60 / args.interval),
        "capacity": cap, "scheduled": sched,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "database_bytes": database_bytes,
        "metric_samples_stored": samples["samples"],
        "database_bytes_per_metric_sample": round(database_bytes / max(samples["samples"], 1), 1),
        "metric_tables_bytes_per_sample": samples["bytes_per_sample"],
        "peer_fork_exec_per_check": fork_exec_per_check(1000),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
