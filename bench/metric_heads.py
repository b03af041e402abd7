"""Metric write CPU as a window fills: does an append cost more late in a window? Prints JSON.

    python bench/metric_heads.py --series 2000 --interval 15 --hours 4

Writes a sample every `interval` seconds for `series` series (the value shapes of
bench/metric_storage.py) through the store's real write path, one transaction per simulated
write, with the clock simulated, and reports the writing thread's CPU per 1,000 samples for
each eighth of the run. Windows are two hours and begin at an offset per series, so after the
first two hours every eighth holds heads at every stage of their window.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from metric_storage import _series, values

from watchkeeper.store.database import Store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between samples of a series")
    parser.add_argument("--hours", type=float, default=4.0)
    args = parser.parse_args()
    steps = int(args.hours * 3600 / args.interval)
    eighths: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "watchkeeper.db")
        ids = _series(store.db, args.series)
        start = 1_800_000_000.0 - 1_800_000_000.0 % 7200
        cpu, written = 0.0, 0
        for step, row in enumerate(values(args.series, steps)):
            ts = start + step * args.interval + 1.0
            samples = [(series, ts, value) for series, value in zip(ids, row, strict=True)]
            began = time.thread_time()
            with store.transaction("bench") as db:
                done = store.metrics.write(db, samples)
            done()
            cpu += time.thread_time() - began
            written += len(samples)
            if (step + 1) % max(steps // 8, 1) == 0:
                eighths.append(round(1000 * cpu / written, 4))
                cpu, written = 0.0, 0
        store.close()
    print(json.dumps({"benchmark": "metric_heads", "series": args.series, "interval_seconds": args.interval,
                      "hours": args.hours, "write_cpu_seconds_per_1000_samples_by_eighth": eighths}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
