"""Livestatus benchmark: the clients' real queries on a large store, and a hostile regex filter
on RE2 beside Python's `re`. Prints JSON.

    python bench/livestatus.py --hosts 1000 --services 30

The store gets `hosts` x `services` services (2 % CRIT, 3 % WARN), a host group per ten
hosts and a state history. Each query from tests/livestatus/fixtures/clients is answered
in this process from a fresh snapshot (as the server does per request), best of three. The
regex part times `^(a|aa)+$` against `a` * n + `b`: Python's `re` backtracks exponentially,
RE2 (what Livestatus filters run on) is linear; `re` is stopped at n = 30.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

import re2  # type: ignore[import-untyped]

from watchkeeper.livestatus.answer import answer
from watchkeeper.livestatus.query import Query, parse_request
from watchkeeper.livestatus.snapshot import Snapshot
from watchkeeper.store.database import Store

CLIENTS = Path(__file__).resolve().parents[1] / "tests" / "livestatus" / "fixtures" / "clients"


def build(path: Path, hosts: int, per_host: int) -> None:
    store = Store(path)
    now = time.time()
    with store.transaction("building the benchmark store") as db:
        db.executemany("INSERT INTO hosts (name, uri, interval_s, options, created, state, state_since, last_fetch, "
                       "last_ok) VALUES (?, 'local', 60, ?, ?, 'UP', ?, ?, ?)",
                       [(f"host{h:04d}", json.dumps({"labels": {"hostgroups": f"group{h // 10}"}}), now, now, now, now)
                        for h in range(hosts)])
        rows = []
        history = []
        for h in range(hosts):
            for s in range(per_host):
                state = 2 if (h * per_host + s) % 50 == 0 else 1 if (h * per_host + s) % 33 == 0 else 0
                rows.append((f"host{h:04d}", f"Service {s:02d}", "df", str(s), now, state,
                             f"{'used 97%' if state else 'used 40%'} of /data{s}", now - 30, now - 3600))
                if state:
                    history.append((f"host{h:04d}", f"Service {s:02d}", now - 3600, state, 0, "used 97%"))
        db.executemany("INSERT INTO services (host, name, plugin, item, accepted, state, summary, last_check, "
                       "last_change) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO state_history (host, service, ts, state, stale, summary) VALUES (?, ?, ?, ?, ?, ?)",
                       history)
    store.close()


def queries() -> list[tuple[str, str]]:
    found = []
    for path in sorted(CLIENTS.glob("*.txt")):
        for index, text in enumerate(part for part in path.read_text().split("\n\n") if part.strip()):
            found.append((f"{path.stem}#{index}", text + "\n"))
    return found


def time_queries(path: Path) -> dict[str, float]:
    store = Store(path)
    timings: dict[str, float] = {}
    for name, text in queries():
        query = parse_request(text)
        assert isinstance(query, Query)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            code, _ = answer(query, Snapshot(store))
            best = min(best, time.perf_counter() - started)
            assert code == 200
        timings[name] = round(best, 4)
    store.close()
    return timings


def time_regex() -> list[dict[str, object]]:
    options = re2.Options()
    options.log_errors = False
    hostile_re2 = re2.compile(r"^(a|aa)+$", options)
    hostile_re = re.compile(r"^(a|aa)+$")
    rows = []
    for n in (20, 24, 26, 28, 30, 100_000):
        text = "a" * n + "b"
        started = time.perf_counter()
        assert hostile_re2.search(text) is None
        row: dict[str, object] = {"n": n, "re2_s": round(time.perf_counter() - started, 6)}
        if n <= 30:
            started = time.perf_counter()
            assert hostile_re.search(text) is None
            row["python_re_s"] = round(time.perf_counter() - started, 4)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--services", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.db"
        build(path, args.hosts, args.services)
        timings = time_queries(path)
    slowest = sorted(timings.items(), key=lambda item: -item[1])[:8]
    print(json.dumps({"hosts": args.hosts, "services": args.hosts * args.services, "queries": len(timings),
                      "slowest_queries_s": dict(slowest), "total_s": round(sum(timings.values()), 3),
                      "hostile_regex": time_regex()}, indent=1))


if __name__ == "__main__":
    main()
