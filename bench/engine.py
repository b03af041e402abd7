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

from watchkeeper.collect.hosts import HostConfig
from watchkeeper.collect.local import default_agent_command
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.notify.notifier import Notifier
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables


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


async def capacity(store: Store, home: Path, snapshots: list[bytes], rounds: int) -> dict[str, float]:
    scheduler = with_alerting(store, home)
    await scheduler.reload()
    for runtime in scheduler.hosts.values():
        runtime.transport = Replay(snapshots)
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    for _ in range(rounds):
        await asyncio.gather(*(scheduler.check_host(runtime) for runtime in scheduler.hosts.values()))
        scheduler.sink.flush_now()
    wall, cpu = time.perf_counter() - start_wall, cpu_seconds() - start_cpu
    services = scheduler.stats.services_checked
    return {"services": services, "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "services_per_second": round(services / wall), "services_per_minute_one_core": round(60 * services / cpu),
            "cpu_seconds_per_1000_services": round(1000 * cpu / services, 3)}


async def scheduled(store: Store, home: Path, snapshots: list[bytes], seconds: float) -> dict[str, float | None]:
    scheduler = with_alerting(store, home)
    stop = asyncio.Event()

    async def run() -> None:
        await scheduler.run(stop)

    task = asyncio.create_task(run())
    while not scheduler.hosts:
        await asyncio.sleep(0.01)  # the scheduler's first reload; bench only, not a test
    for runtime in scheduler.hosts.values():
        runtime.transport = Replay(snapshots[1:])
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    await asyncio.sleep(seconds)
    stop.set()
    await task
    wall, cpu = time.perf_counter() - start_wall, cpu_seconds() - start_cpu
    delays = sorted(scheduler.stats.start_delays)
    services = scheduler.stats.services_checked
    return {"services": services, "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "services_per_minute": round(60 * services / wall), "cpu_busy_percent": round(100 * cpu / wall, 1),
            "cpu_seconds_per_1000_services": round(1000 * cpu / max(services, 1), 3),
            "start_delay_p50_seconds": round(statistics.median(delays), 3) if delays else None,
            "start_delay_p95_seconds": round(delays[int(0.95 * (len(delays) - 1))], 3) if delays else None,
            "start_delay_max_seconds": round(delays[-1], 3) if delays else None}


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
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = Store(home / "watchkeeper.db")
        for index in range(args.hosts):
            store.add_host(HostConfig(f"host{index:05d}", "local", args.interval))
        cap = asyncio.run(capacity(store, home, snapshots, args.rounds))
        sched = asyncio.run(scheduled(store, home, snapshots[args.rounds:], args.seconds))
        database_bytes = sum(p.stat().st_size for p in home.glob("watchkeeper.db*"))
        store.close()
    services_per_host = cap["services"] / (args.hosts * args.rounds)
    result = {
        "benchmark": "engine", "python": sys.version.split()[0], "hosts": args.hosts,
        "services_per_host": round(services_per_host, 1), "interval_seconds": args.interval,
        "offered_services_per_minute": round(args.hosts * services_per_host * 60 / args.interval),
        "capacity": cap, "scheduled": sched,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "database_bytes": database_bytes,
        "peer_fork_exec_per_check": fork_exec_per_check(1000),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
