"""Metric storage benchmark: bytes per sample and write CPU after a simulated month. Prints JSON.

    python bench/metric_storage.py --series 1000 --days 30

Writes `days` of 1-minute samples for `series` series through the store's real write path
(`MetricWriter`, one transaction per simulated minute, as the daemon's writer batches them),
with the clock simulated. The series have the value shapes checks produce, a quarter each:
integer counters that grow (bytes used, chunks), percentages computed from two integers (full
float precision), flat lines (0 errors, a constant size) and noisy gauges (rates from counter
differences over measured seconds, full float precision).

Side by side in the same run: format 1 of the store (one upserted row per sample and per
coarse bucket, `--peer-days` of the same series), written with its own SQL, for bytes per
sample and write CPU. The figures: bytes of the metric tables and their indexes (SQLite's
dbstat) per sample written, the whole database file per sample, and thread CPU per 1,000
samples written.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from watchkeeper.store.database import Store
from watchkeeper.store.rollup import Rollups
from watchkeeper.store.schema import CHUNK_TABLES, METRIC_TIERS

SHAPES = ("counter", "percent", "flat", "noisy")


def values(series: int, minutes: int, seed: int = 7) -> Iterator[list[float]]:
    """Per simulated minute, one value per series."""
    rng = random.Random(seed)
    counters = [float(10**9 + rng.randrange(10**9)) for _ in range(series)]
    used = [rng.randrange(10**11, 10**12) for _ in range(series)]
    for _ in range(minutes):
        row = []
        for index in range(series):
            shape = SHAPES[index % 4]
            if shape == "counter":
                counters[index] += rng.randrange(0, 5 * 10**5)
                row.append(counters[index])
            elif shape == "percent":
                used[index] += rng.randrange(-(10**6), 4 * 10**6)
                row.append(100.0 * used[index] / 2_000_398_934_016)
            elif shape == "flat":
                row.append(0.0 if index % 8 == 2 else 3_999_999_488.0)
            else:
                row.append(rng.randrange(0, 3 * 10**6) / (60.0 + rng.random() * 0.2))
        yield row


def metric_bytes(db: sqlite3.Connection, tables: tuple[str, ...]) -> int:
    names = ", ".join(f"'{name}'" for name in tables)
    return int(db.execute(f"SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ({names})").fetchone()[0])


def run_format_2(home: Path, series: int, days: float, start: float, batch_minutes: int = 1) -> dict[str, float]:
    path = home / f"format2-{days:g}d.db"
    store = Store(path)
    ids = _series(store.db, series)
    writer = store.metrics
    minutes = int(days * 1440)
    cpu = 0.0
    samples: list[tuple[int, float, float]] = []
    for minute, row in enumerate(values(series, minutes)):
        ts = start + minute * 60 + 3.0
        samples += [(s, ts, value) for s, value in zip(ids, row, strict=True)]
        if (minute + 1) % batch_minutes and minute + 1 < minutes:
            continue
        began = time.thread_time()
        with store.transaction("bench") as db:
            done = writer.write(db, samples)
        done()
        cpu += time.thread_time() - began
        samples = []
    tables = ("metric_heads", "metric_segments", "metric_segments_key", *CHUNK_TABLES,
              *(f"sqlite_autoindex_{table}_1" for table in CHUNK_TABLES))
    return _figures(store.db, tables, path, series * minutes, cpu)


UPSERT_FORMAT_1 = """
INSERT INTO metric_points (series, tier, slot, bucket, n, total, lo, hi) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (series, tier, slot) DO UPDATE SET
    n     = CASE WHEN bucket = excluded.bucket THEN n + excluded.n ELSE excluded.n END,
    total = CASE WHEN bucket = excluded.bucket THEN total + excluded.total ELSE excluded.total END,
    lo    = CASE WHEN bucket = excluded.bucket THEN min(lo, excluded.lo) ELSE excluded.lo END,
    hi    = CASE WHEN bucket = excluded.bucket THEN max(hi, excluded.hi) ELSE excluded.hi END,
    bucket = excluded.bucket
WHERE excluded.bucket >= bucket
"""
"""Format 1's write, as it was: one row per sample in the 1-minute ring, a row per closed
coarse bucket."""


def run_format_1(home: Path, series: int, days: float, start: float) -> dict[str, float]:
    db = sqlite3.connect(home / "format1.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE metric_points (series INTEGER NOT NULL, tier INTEGER NOT NULL, slot INTEGER NOT NULL, "
               "bucket INTEGER NOT NULL, n INTEGER NOT NULL, total REAL NOT NULL, lo REAL NOT NULL, "
               "hi REAL NOT NULL, PRIMARY KEY (series, tier, slot)) WITHOUT ROWID")
    rollups = Rollups()
    step, slots = METRIC_TIERS[0]
    minutes = int(days * 1440)
    cpu = 0.0
    for minute, row in enumerate(values(series, minutes)):
        ts = start + minute * 60 + 3.0
        began = time.thread_time()
        bucket = int(ts // step)
        points = [(s, 0, bucket % slots, bucket, 1, v, v, v) for s, v in enumerate(row, 1)]
        points += [(s, tier, b % METRIC_TIERS[tier][1], b, n, total, lo, hi)
                   for s, tier, b, n, total, lo, hi in rollups.closed]
        db.execute("BEGIN IMMEDIATE")
        db.executemany(UPSERT_FORMAT_1, points)
        db.execute("COMMIT")
        rollups.closed.clear()
        for s, v in enumerate(row, 1):
            rollups.add(s, ts, 1, v, v, v)
        cpu += time.thread_time() - began
    return _figures(db, ("metric_points",), home / "format1.db", series * minutes, cpu)


def _series(db: sqlite3.Connection, count: int) -> list[int]:
    db.executemany("INSERT INTO metric_series (id, host, service, metric) VALUES (?, ?, ?, ?)",
                   [(i, f"host{i // 10:04d}", f"Service {i}", SHAPES[(i - 1) % 4]) for i in range(1, count + 1)])
    return list(range(1, count + 1))


def _figures(db: sqlite3.Connection, tables: tuple[str, ...], path: Path, samples: int, cpu: float
             ) -> dict[str, float]:
    count = int(db.execute("SELECT count(DISTINCT series) FROM " + ("metric_points" if "metric_points" in tables
                                                                    else "metric_heads")).fetchone()[0])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = metric_bytes(db, tables)
    return {"days": round(samples / count / 1440, 2), "samples": samples,
            "metric_table_bytes": size, "bytes_per_sample": round(size / samples, 2),
            "database_file_bytes_per_sample": round(path.stat().st_size / samples, 2),
            "write_cpu_seconds_per_1000_samples": round(1000 * cpu / samples, 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=float, default=30.0, help="simulated days for bytes per sample")
    parser.add_argument("--batch-minutes", type=int, default=30,
                        help="simulated minutes per transaction in that long run (the bytes do not depend on it)")
    parser.add_argument("--cpu-days", type=float, default=1.0,
                        help="days written in both formats, a transaction per minute, for write CPU side by side")
    args = parser.parse_args()
    start = 1_800_000_000.0
    runs: dict[str, Callable[[Path], dict[str, float]]] = {
        "format_2_chunks": lambda home: run_format_2(home, args.series, args.cpu_days, start),
        "format_1_rows": lambda home: run_format_1(home, args.series, args.cpu_days, start),
        "format_2_chunks_long_run": lambda home: run_format_2(home, args.series, args.days, start, args.batch_minutes),
    }
    result: dict[str, object] = {"benchmark": "metric_storage", "python": sys.version.split()[0],
                                 "sqlite": sqlite3.sqlite_version, "series": args.series, "shapes": SHAPES}
    with tempfile.TemporaryDirectory() as tmp:
        for name, run in runs.items():
            began = time.perf_counter()
            figures = run(Path(tmp))
            result[name] = {**figures, "wall_seconds": round(time.perf_counter() - began, 1)}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
