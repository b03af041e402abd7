"""Metric history: samples appended to a head, closed into compressed chunks, rolled up into
coarse tiers, read back merged; a late sample, a restart, a failed batch, retention."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.store.test_store import cycle
from watchkeeper.checkapi import Metric
from watchkeeper.errors import StoreError
from watchkeeper.model.cycles import HostCycle, Outcome, ServiceSpec
from watchkeeper.model.hosts import HostConfig
from watchkeeper.store import metric_history
from watchkeeper.store.database import Store
from watchkeeper.store.metric_history import WINDOWS
from watchkeeper.store.schema import CHUNK_TABLES, METRIC_TIERS

BASE = 1_800_000_000.0 - 1_800_000_000.0 % (7 * 86400)  # a week boundary: every window lines up after it


def series_id(store: Store) -> int:
    return int(store.query("SELECT id FROM metric_series WHERE metric = 'mem_used_bytes'")[0][0])


def buckets(store: Store, tier: int) -> list[tuple[int, int, float, float, float]]:
    return metric_history.read(store.db, series_id(store), tier, 0, 2**40)


def test_samples_in_one_minute_share_a_bucket(store: Store) -> None:
    store.write_cycles([cycle(BASE + 10, 0, 2.0), cycle(BASE + 20, 0, 4.0)])
    assert buckets(store, 0) == [(int(BASE // 60), 2, 6.0, 2.0, 4.0)]
    assert [p.avg for p in store.metric_points("web1", "Memory", "mem_used_bytes", BASE, BASE + 60, now=BASE)] == [3.0]


def test_a_full_window_becomes_one_compressed_chunk_and_old_chunks_are_dropped(store: Store) -> None:
    minutes = METRIC_TIERS[0][1] + 3 * WINDOWS[0]  # more than the 48 h the 1-minute tier keeps
    for minute in range(minutes):
        store.write_cycles([cycle(BASE + minute * 60, 0, float(minute % 7))])
    series = series_id(store)
    chunks = store.query("SELECT start, end, length(data) FROM metric_chunks_1m WHERE series = ? ORDER BY start",
                         (series,))
    newest = int(BASE // 60) + minutes - 1
    assert chunks[0][0] > int(BASE // 60)  # the oldest chunks were dropped
    assert chunks[0][1] >= newest - METRIC_TIERS[0][1] - WINDOWS[0]  # those the tier still keeps were not
    assert all(end - start < WINDOWS[0] for start, end, _ in chunks)
    assert sum(size for *_, size in chunks) < 4 * sum(end - start + 1 for start, end, _ in chunks)
    kept = buckets(store, 0)
    assert kept[-1] == (newest, 1, float((minutes - 1) % 7), float((minutes - 1) % 7), float((minutes - 1) % 7))
    assert [b[0] for b in kept] == list(range(kept[0][0], newest + 1))  # no minute lost at a window's edge


def test_the_coarse_tiers_get_a_bucket_when_it_closes(store: Store) -> None:
    step = METRIC_TIERS[1][0]
    for minute, value in enumerate([2.0, 4.0, 6.0, 8.0, 10.0]):  # one 5-minute bucket, five samples
        store.write_cycles([cycle(BASE + minute * 60, 0, value)])
    assert buckets(store, 1) == []  # still open
    store.write_cycles([cycle(BASE + step, 0, 1.0)])  # the next bucket begins: the first one closes
    store.write_cycles([])  # and is written with the next batch
    assert buckets(store, 1) == [(int(BASE // step), 5, 30.0, 2.0, 10.0)]


def test_the_open_coarse_bucket_is_read_from_the_minute_tier(store: Store) -> None:
    for minute in range(3):
        store.write_cycles([cycle(BASE + minute * 60, 0, float(minute))])
    eight_days_later = BASE + 8 * 86400  # a range that the 5-minute tier answers
    points = store.metric_points("web1", "Memory", "mem_used_bytes", BASE, BASE + 3600, now=eight_days_later)
    assert [(p.ts, p.avg, p.lo, p.hi) for p in points] == [(BASE, 1.0, 0.0, 2.0)]


def test_a_failed_batch_written_again_does_not_count_its_samples_twice(store: Store, tmp_path: Path) -> None:
    store.write_cycles([cycle(BASE, 0, 1.0)])
    blocker = sqlite3.connect(tmp_path / "wk.db", timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock: this batch fails
    store.db.execute("PRAGMA busy_timeout = 0")
    with pytest.raises(StoreError):
        store.write_cycles([cycle(BASE + 60, 0, 3.0)])
    blocker.rollback()
    store.write_cycles([cycle(BASE + 60, 0, 3.0)])  # the same batch, again
    store.write_cycles([cycle(BASE + 300, 0, 5.0)])
    store.write_cycles([])
    assert buckets(store, 0)[:2] == [(int(BASE // 60), 1, 1.0, 1.0, 1.0), (int(BASE // 60) + 1, 1, 3.0, 3.0, 3.0)]
    assert buckets(store, 1)[0][1:] == (2, 4.0, 1.0, 3.0)


def test_a_restart_inside_a_coarse_bucket_folds_its_samples_in_once(store: Store, tmp_path: Path) -> None:
    store.write_cycles([cycle(BASE, 0, 1.0), cycle(BASE + 60, 0, 2.0)])
    store.close()  # or killed: the open 5-minute and 1-hour buckets were only in memory
    again = Store(tmp_path / "wk.db")
    again.write_cycles([cycle(BASE + 120, 0, 6.0)])
    again.write_cycles([cycle(BASE + 3600, 0, 9.0)])  # closes the first 5-minute and 1-hour buckets
    again.write_cycles([])
    assert buckets(again, 1)[0] == (int(BASE // 300), 3, 9.0, 1.0, 6.0)
    assert buckets(again, 2) == [(int(BASE // 3600), 3, 9.0, 1.0, 6.0)]


def test_a_late_sample_joins_the_chunk_of_its_window(store: Store) -> None:
    for minute in range(WINDOWS[0] + 5):
        store.write_cycles([cycle(BASE + minute * 60, 0, 1.0)])
    store.write_cycles([cycle(BASE + 30, 0, 5.0)])  # a cycle that started long ago, written now
    assert buckets(store, 0)[0] == (int(BASE // 60), 2, 6.0, 1.0, 5.0)


def test_latest_value_is_the_newest_sample(store: Store) -> None:
    store.write_cycles([cycle(BASE, 0, 1.0), cycle(BASE + 10, 0, 7.0)])
    assert store.latest_metrics() == [("web1", "Memory", "mem_used_bytes", 7.0, None, None)]
    assert store.latest_metrics(since=BASE + 11) == []


def test_a_damaged_chunk_is_left_out_and_named_and_the_rest_is_read(store: Store, caplog: pytest.LogCaptureFixture
                                                                     ) -> None:
    for minute in range(2 * WINDOWS[0] + 5):
        store.write_cycles([cycle(BASE + minute * 60, 0, 1.0)])
    first = store.query("SELECT min(start) FROM metric_chunks_1m")[0][0]
    store.db.execute("UPDATE metric_chunks_1m SET data = x'0100ffff' WHERE start = ?", (first,))
    kept = buckets(store, 0)
    assert kept and kept[0][0] >= first + WINDOWS[0] - 1
    assert "damaged" in caplog.text and f"chunk at bucket {first}" in caplog.text


def test_a_head_stays_short_its_records_moving_to_segments_until_its_window_closes(store: Store) -> None:
    window = WINDOWS[0] * 60
    start = metric_history.window_start(1, 0, int(BASE // 60)) * 60
    for step in range(window // 15):  # a sample every 15 s: four to a bucket, a whole window
        store.write_cycles([cycle(start + step * 15, 0, float(step % 4))])
    assert max(size for (size,) in store.query("SELECT length(data) FROM metric_heads WHERE tier = 0")) <= \
        metric_history.SEGMENT_BYTES
    assert store.query("SELECT count(*) FROM metric_segments")[0][0] >= window // 15 // 32 - 1
    held = buckets(store, 0)
    assert [b[0] for b in held] == list(range(int(start // 60), int(start // 60) + WINDOWS[0]))
    assert all(b[1:] == (4, 6.0, 0.0, 3.0) for b in held)  # every sample read back, once
    store.write_cycles([cycle(start + window, 0, 9.0)])  # the next window: the head closes into a chunk
    assert store.query("SELECT count(*) FROM metric_segments WHERE key = ?",
                       (metric_history.head_key(series_id(store), 0),))[0][0] == 0
    assert buckets(store, 0) == [*held, (int((start + window) // 60), 1, 9.0, 9.0, 9.0)]
    assert store.query("SELECT count(*) FROM metric_chunks_1m")[0][0] == 1


def test_a_host_back_with_its_history_kept_loses_nothing_of_the_open_window(store: Store) -> None:
    for step in range(40):  # past one segment
        store.write_cycles([cycle(BASE + step * 15, 0, 1.0)])
    store.remove_host("web1", keep_history=True)
    store.add_host(HostConfig("web1", "local"))
    store.accept_services("web1", [ServiceSpec("Memory", "mem", "")])
    store.write_cycles([cycle(BASE + 40 * 15, 0, 1.0)])
    assert sum(b[1] for b in buckets(store, 0)) == 41


def test_removing_a_host_removes_its_metric_history(store: Store) -> None:
    for minute in range(WINDOWS[0] + 5):
        store.write_cycles([cycle(BASE + minute * 60, 0, 1.0), cycle(BASE + minute * 60 + 30, 0, 1.0)])
    assert store.query("SELECT count(*) FROM metric_segments")[0][0] > 0
    store.remove_host("web1")
    for table in (*CHUNK_TABLES, "metric_heads", "metric_segments"):
        assert store.query(f"SELECT count(*) FROM {table}")[0][0] == 0


WRITER = """
import sys
from pathlib import Path
from tests.store.test_store import cycle
from watchkeeper.store.database import Store
store = Store(Path(sys.argv[1]))
base = float(sys.argv[2])
for minute in range(100_000):  # bounded; killed long before
    # two samples a minute: heads move their records to segments every 16 minutes
    store.write_cycles([cycle(base + minute * 60, 0, float(minute)), cycle(base + minute * 60 + 30, 0, float(minute))])
    print(minute, flush=True)
"""


def test_kill_9_loses_no_committed_sample_and_the_store_stays_whole(store: Store, tmp_path: Path) -> None:
    store.close()
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "wk.db"), str(BASE)],
                          stdout=subprocess.PIPE, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": f"{root}:{root / 'src'}"}) as child:
        try:
            assert child.stdout is not None
            committed = -1
            while committed < 3 * WINDOWS[0] + 7:  # past a few chunk closes, then killed mid-run
                line = child.stdout.readline()
                assert line, "the writer stopped by itself"
                committed = int(line)
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
    again = Store(tmp_path / "wk.db")
    assert again.query("PRAGMA integrity_check") == [("ok",)]
    kept = buckets(again, 0)
    first = int(BASE // 60)
    assert [b[0] - first for b in kept[:committed + 1]] == list(range(committed + 1))
    assert all(b[1:3] == (2, 2 * (b[0] - first)) for b in kept)  # each minute's own values, none twice
    # after the restart the coarse tiers are folded in again from the 1-minute tier: complete, once
    last = kept[-1][0] - first
    again.write_cycles([cycle(BASE + (last + 120) * 60, 0, 0.0)])
    again.write_cycles([])
    coarse = buckets(again, 1)
    assert sum(b[1] for b in coarse) == sum(b[1] for b in kept if b[0] < coarse[-1][0] * 5 + 5)


def test_a_series_first_seen_in_a_failed_batch_gets_its_own_id_when_written_again(store: Store) -> None:
    def with_metric(now: float, metric: str, value: float, summary: str = "fine") -> HostCycle:
        return HostCycle("web1", now, True, "", [Outcome("Memory", 0, summary, metrics=[Metric(metric, value)])])

    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # the disk fills after the series is made
    with pytest.raises(StoreError):
        store.write_cycles([with_metric(BASE, "swap_used_bytes", 1.0, summary="x" * 2_000_000)])
    store.db.execute("PRAGMA max_page_count = 1073741823")
    store.write_cycles([with_metric(BASE + 60, "mem_used_bytes", 2.0)])  # takes the id the failed batch had
    store.write_cycles([with_metric(BASE + 120, "swap_used_bytes", 3.0)])
    points = {metric: [p.avg for p in store.metric_points("web1", "Memory", metric, BASE, BASE + 600, now=BASE)]
              for metric in ("mem_used_bytes", "swap_used_bytes")}
    assert points == {"mem_used_bytes": [2.0], "swap_used_bytes": [3.0]}
