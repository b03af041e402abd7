"""Web benchmark: page and API times over real HTTP against a large store. Prints JSON.

    python bench/web.py --hosts 1000 --services 30 --days 2

The store gets `hosts` x `services` services (2 % CRIT, 3 % WARN, 1 % UNKNOWN), state
history for the problems, and `days` of metrics for every service: one series each at a
10-minute step, and at the full 1-minute step for the services whose pages are timed. The
web application runs under uvicorn in this process; requests come from one client thread
over loopback, one at a time, with a logged-in session (pages) or an API token (API).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from watchkeeper.store import metric_history
from watchkeeper.store.database import Store
from watchkeeper.store.schema import METRIC_TIERS
from watchkeeper.store.web_tables import WebTables
from watchkeeper.web.link import NoDaemon
from watchkeeper.web.server import WebServer

PASSWORD = "benchmark password"


def build(path: Path, hosts: int, per_host: int, days: float, detailed: set[tuple[str, str]]) -> float:
    """The store, written with plain SQL in large batches; returns the seconds it took."""
    started = time.perf_counter()
    store = Store(path)
    now = time.time()
    rng = random.Random(7)
    host_rows: list[tuple[object, ...]] = []
    service_rows: list[tuple[object, ...]] = []
    history: list[tuple[object, ...]] = []
    series_rows: list[tuple[int, str, str, str]] = []
    levels: list[tuple[int, float, float]] = []
    for h in range(hosts):
        host = f"host{h:04d}"
        host_rows.append((host, "local", 60.0, "{}", now - days * 86400, "UP", now - days * 86400, now, now))
        for s in range(per_host):
            name = f"Filesystem /srv/{s:02d}"
            roll = rng.random()
            state = 2 if roll < 0.02 else 1 if roll < 0.05 else 3 if roll < 0.06 else 0
            service_rows.append((host, name, "df", f"/srv/{s:02d}", now - days * 86400, state,
                                 f"used {40 + 55 * (state > 0):.1f}% of 2 TiB", now - 30, now - 3600 * (1 + s % 5)))
            if state:
                history += [(host, name, now - days * 86400, 0, "used 40%"),
                            (host, name, now - 3600, state, "used 95%")]
            series_rows.append((len(series_rows) + 1, host, name, "fs_used_percent"))
            levels.append((len(series_rows), 80.0, 90.0))
    with store.transaction("building the benchmark store") as db:
        db.executemany("INSERT INTO hosts (name, uri, interval_s, options, created, state, state_since, last_fetch, "
                       "last_ok) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", host_rows)
        db.executemany("INSERT INTO services (host, name, plugin, item, accepted, state, summary, last_check, "
                       "last_change) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", service_rows)
        db.executemany("INSERT INTO state_history (host, service, ts, state, stale, summary) VALUES (?, ?, ?, ?, 0, ?)",
                       history)
        db.executemany("INSERT INTO metric_series (id, host, service, metric) VALUES (?, ?, ?, ?)", series_rows)
        db.executemany("INSERT INTO metric_levels (series, warn, crit) VALUES (?, ?, ?)", levels)
    for series_id, host, name, _ in series_rows:
        step = 60 if (host, name) in detailed else 600
        tiers: list[dict[int, list[float]]] = [{} for _ in METRIC_TIERS]
        for ts in range(int(now - days * 86400), int(now), step):
            value = 40.0 + 50.0 * (ts - now + days * 86400) / (days * 86400) + rng.random()
            for tier, (tier_step, _) in enumerate(METRIC_TIERS):
                acc = tiers[tier].setdefault(ts // tier_step, [0, 0.0, value, value])
                acc[0] += 1
                acc[1] += value
                acc[2] = min(acc[2], value)
                acc[3] = max(acc[3], value)
        with store.transaction("writing benchmark points") as db:
            for tier, buckets in enumerate(tiers):
                metric_history.store_buckets(db, series_id, tier, [
                    (bucket, int(n), total, lo, hi) for bucket, (n, total, lo, hi) in sorted(buckets.items())])
    WebTables(store).set_user("bench", PASSWORD, "read")
    store.close()
    return time.perf_counter() - started


def graph_reads(store: Store, services: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """The store's read of one graph's points (what a page or the API waits for), without HTTP:
    25 hours of 1-minute points, and 8 days of 5-minute points."""
    out = {}
    for name, seconds in (("points_25h_ms", 25 * 3600), ("points_8d_ms", 8 * 86400)):
        times, count = [], 0
        for host, service in services:
            started = time.perf_counter()
            count = len(store.metric_points(host, service, "fs_used_percent", time.time() - seconds, time.time()))
            times.append(1000 * (time.perf_counter() - started))
        times.sort()
        out[name] = {"points": count, "median": round(statistics.median(times), 2),
                     "p95": round(times[int(0.95 * (len(times) - 1))], 2), "max": round(times[-1], 2)}
    return out


def timed(client: httpx.Client, paths: list[str | tuple[str, dict[str, str]]], headers: dict[str, str] | None = None
          ) -> dict[str, float]:
    times = []
    size = 0
    for item in paths:
        path, params = (item, {}) if isinstance(item, str) else item
        started = time.perf_counter()
        response = client.get(path, params=params, headers=headers)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{path} {params}: HTTP {response.status_code}: {response.text[:300]}")
        size = max(size, len(response.content))
    times.sort()
    return {"requests": len(times), "p50_ms": round(statistics.median(times) * 1000, 1),
            "p95_ms": round(times[min(int(len(times) * 0.95), len(times) - 1)] * 1000, 1),
            "max_ms": round(times[-1] * 1000, 1), "largest_response_bytes": size}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--services", type=int, default=30, help="services per host")
    parser.add_argument("--days", type=float, default=2.0, help="days of metrics")
    parser.add_argument("--requests", type=int, default=100, help="requests per page kind")
    args = parser.parse_args()
    rng = random.Random(11)
    hosts = [f"host{h:04d}" for h in range(args.hosts)]
    services = [(rng.choice(hosts), f"Filesystem /srv/{rng.randrange(args.services):02d}")
                for _ in range(args.requests)]
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "watchkeeper.db"
        build_s = build(database, args.hosts, args.services, args.days, set(services))
        database_bytes = sum(p.stat().st_size for p in Path(tmp).glob("watchkeeper.db*"))
        token = WebTables(Store(database)).add_token("bench", "read")[1]
        reads = graph_reads(Store(database), services)
        web = WebServer(database, NoDaemon(), "127.0.0.1", 0)
        thread = threading.Thread(target=lambda: asyncio.run(web.server.serve(sockets=[web.socket])), daemon=True)
        thread.start()
        with httpx.Client(base_url=web.url.rstrip("/"), timeout=60) as client:
            assert client.post("/login", data={"name": "bench", "password": PASSWORD}).status_code == 303
            client.get("/")  # warm: templates compiled, connections opened
            results = {
                "overview": timed(client, ["/"] * args.requests),
                "host_page": timed(client, [f"/hosts/{rng.choice(hosts)}" for _ in range(args.requests)]),
                "service_page_25h": timed(client, [("/service", {"host": h, "service": s}) for h, s in services]),
                "service_page_8d": timed(client, [("/service", {"host": h, "service": s, "range": "8d"})
                                                  for h, s in services]),
                "api_service_metrics_25h": timed(
                    client, [(f"/api/v1/hosts/{h}/metrics/{s}", {"range": "25h"}) for h, s in services],
                    {"Authorization": f"Bearer {token}"}),
                "api_all_services": timed(client, ["/api/v1/services"] * max(args.requests // 10, 5),
                                          {"Authorization": f"Bearer {token}"}),
            }
        web.server.should_exit = True
        thread.join(timeout=60)
    print(json.dumps({
        "benchmark": "web", "python": sys.version.split()[0], "hosts": args.hosts,
        "services": args.hosts * args.services, "days_of_metrics": args.days, "store_build_seconds": round(build_s, 1),
        "database_bytes": database_bytes, "graph_reads": reads, **results,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
