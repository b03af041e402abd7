"""A daemon with many services: how its start spreads checks, how fast a configuration change is
applied, and how long the event loop ever waits. Prints JSON.

    python bench/reload.py --hosts 1000 --services 100 --seconds 30

`hosts` agentless hosts with `services` active checks each (`check_dummy`, every 5 minutes):
100,000 services by default. Measured while the scheduler runs as the daemon runs it:
- start: how the checks' first due times fall over the first interval (the fullest second
  against an even spread), and the loop lag of the first reload;
- changes: every few seconds a host is added through another connection (as the CLI does);
  the time until the scheduler runs it, for each;
- the event loop's lag (a 10 ms timer, how late it fires): p99 and max over the run, and the
  CPU the daemon used per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from engine import LagMonitor
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.hosts import HostConfig
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.database import Store

PLUGIN = shutil.which("check_dummy") or "/usr/lib/nagios/plugins/check_dummy"
INTERVAL_S = 300.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(store: Store, home: Path, seconds: float, changes: int, expected: int) -> dict[str, object]:
    scheduler = Scheduler(store, Paths(home), freeze_gc=True)  # as the daemon runs it
    stop = asyncio.Event()
    lag = LagMonitor()
    lagging = asyncio.create_task(lag.run(stop))
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    running = asyncio.create_task(scheduler.run(stop))
    while len(scheduler.active) < expected:
        await asyncio.sleep(0.01)  # the first reload, applied in chunks; bench only, not a test
    first_reload_s = time.perf_counter() - start_wall
    start_lag = lag.figures()
    now = time.time()
    per_second: dict[int, int] = {}
    for runtime in scheduler.active.values():
        second = int(runtime.due - now)
        per_second[second] = per_second.get(second, 0) + 1
    even = len(scheduler.active) / INTERVAL_S
    cli = Store(store.path)  # another connection, as the CLI is another process
    applied: list[float] = []
    for index in range(changes):
        await asyncio.sleep(seconds / (changes + 1))
        name = f"added{index:03d}"
        cli.add_host(HostConfig(name, "none"))
        made = time.perf_counter()
        while name not in scheduler.hosts:
            await asyncio.sleep(0.005)
        applied.append(time.perf_counter() - made)
    await asyncio.sleep(seconds / (changes + 1))
    stop.set()
    await running
    await lagging
    wall, cpu = time.perf_counter() - start_wall, cpu_seconds() - start_cpu
    cli.close()
    return {
        "services": len(scheduler.active), "first_reload_seconds": round(first_reload_s, 2),
        "start": {"checks_due_in_fullest_second": max(per_second.values()),
                  "even_spread_per_second": round(even, 1),
                  "seconds_with_checks_due": len(per_second), "interval_seconds": INTERVAL_S,
                  **{f"first_reload_{key}": value for key, value in start_lag.items()}},
        "change_applied_seconds": {"median": round(statistics.median(applied), 3), "max": round(max(applied), 3),
                                   "changes": len(applied)},
        **lag.figures(),
        "cpu_busy_percent": round(100 * cpu / wall, 1), "plugins_run": scheduler.stats.plugins_run,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--services", type=int, default=100, help="active checks per host")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--changes", type=int, default=5, help="hosts added while it runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = Store(home / "watchkeeper.db")
        checks: list[ActiveCheck] = []
        for host in range(args.hosts):
            name = f"host{host:05d}"
            store.add_host(HostConfig(name, "none"))
            checks.extend(ActiveCheck(name, f"Service {index}", (PLUGIN, "0", "fine"), interval_s=INTERVAL_S)
                          for index in range(args.services))
        ActiveTables(store).add_many(checks)
        result = asyncio.run(measure(store, home, args.seconds, args.changes, len(checks)))
        store.close()
    print(json.dumps({"benchmark": "reload", "python": sys.version.split()[0], "hosts": args.hosts,
                      "services_per_host": args.services, "load_average_1m": round(_load(), 2), **result}, indent=2))
    return 0


def _load() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return math.nan


if __name__ == "__main__":
    sys.exit(main())
