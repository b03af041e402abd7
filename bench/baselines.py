"""Learned baselines benchmark: what computing them costs per 1,000 series. Prints JSON.

    python bench/baselines.py --series 1000 --weeks 4

A store holding `--series` series (on 100 hosts) with `--weeks` weeks of 5-minute buckets each
(a daily curve with noise), written through the store's own chunk writer. Timed, CPU seconds:
`compute_all` the first time (every series' whole range: reading its chunks, grouping by hour
of the week, median and median deviation per hour, one transaction for all) and an hour later
as the daemon runs it every hour (only the hour that passed, in each of the weeks); and the
first run's parts: reading and decoding the chunks alone, and the statistics alone. The reference is the same
statistics with Python's `statistics.median` on each hour's values (what a script would do);
no peer learns a per-hour-of-week band to compare with here (Zabbix's `baselinedev` needs a
Zabbix server and its history database).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from watchkeeper.model.baselines import HOURS, WEEK, BaselineRule, compute, hour_of_week  # noqa: E402
from watchkeeper.model.hosts import HostConfig  # noqa: E402
from watchkeeper.store import metric_history  # noqa: E402
from watchkeeper.store.baseline_tables import BaselineTables  # noqa: E402
from watchkeeper.store.database import Store  # noqa: E402

NOW = 1_796_025_000.0


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fill(store: Store, series: int, since: float, until: float) -> None:
    hosts = 100
    if not store.hosts():
        for host in range(hosts):
            store.add_host(HostConfig(f"host{host:03d}", "none"))
    noise = random.Random(1)
    first, last = int(since // 300), int(until // 300)
    for index in range(series):
        buckets = []
        for bucket in range(first, last):
            value = 40 + 30 * math.sin(bucket * 300 / 86400 * 2 * math.pi) + noise.gauss(0, 3)
            buckets.append((bucket, 5, 5 * value, value - 2, value + 2))
        with store.transaction("bench history") as db:
            metric_history.store_buckets(db, store._series_id(db, f"host{index % hosts:03d}", f"svc{index}",
                                                                 "cpu_percent"), 1, buckets)


def stdlib_reference(points: list[tuple[float, float, float]]) -> None:
    by_hour: list[list[float]] = [[] for _ in range(HOURS)]
    for ts, average, _ in points:
        by_hour[hour_of_week(ts, 0)].append(average)
    for values in by_hour:
        if values:
            centre = statistics.median(values)
            statistics.median([abs(v - centre) for v in values])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="watchkeeper-bench-") as name:
        store = Store(Path(name) / "wk.db")
        fill(store, args.series, NOW - args.weeks * WEEK, NOW)
        tables = BaselineTables(store)
        rule = BaselineRule(0, "cpu_percent", weeks=args.weeks, min_weeks=1)
        tables.add_rule(rule)
        before = cpu()
        done = tables.compute_all(NOW, utc_offset_s=0)
        compute_all = cpu() - before
        fill(store, args.series, NOW, NOW + 3600)
        before = cpu()
        tables.compute_all(NOW + 3600, utc_offset_s=0)
        hourly = cpu() - before

        ids = [row[0] for row in store.query("SELECT id FROM metric_series ORDER BY id")]
        before = cpu()
        read = [list(tables._points(series, rule, NOW)) for series in ids]
        reading = cpu() - before
        before = cpu()
        for points in read:
            compute(rule, points, NOW, 0)
        ours = cpu() - before
        before = cpu()
        for points in read:
            stdlib_reference(points)
        reference = cpu() - before
        size = (Path(name) / "wk.db").stat().st_size
    per_1000 = 1000 / max(args.series, 1)
    print(json.dumps({
        "series": args.series, "weeks": args.weeks, "points_per_series": len(read[0]) if read else 0,
        "baselines": done.series, "judged": done.active, "store_mib": round(size / 2**20, 1),
        "cpu_s_per_1000_series": {"first_compute_all": round(compute_all * per_1000, 3),
                                  "hourly_compute_all": round(hourly * per_1000, 3),
                                  "reading_chunks": round(reading * per_1000, 3),
                                  "statistics": round(ours * per_1000, 3),
                                  "reference_statistics_median": round(reference * per_1000, 3)},
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }, indent=2))


if __name__ == "__main__":
    main()
