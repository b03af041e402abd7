"""Metric history on disk: per series and tier, compressed chunks and one open head.

Each tier (`METRIC_TIERS`: 1-minute buckets for 48 h, 5-minute for 60 days, 1-hour for two
years) cuts a series' time into windows of `WINDOWS` buckets. The current window is the
series' **head** (`metric_heads`): each batch appends its samples to it as fixed-size records,
one UPDATE per series, so a committed sample is on disk at once and a `kill -9` loses only
the batch not yet committed. An append rewrites the whole row (and its page in the log), so a
head is kept short: one that would grow past `SEGMENT_BYTES` first moves what it holds to a
row of `metric_segments`. When a sample falls into the next window, the head and its segments
are encoded into a **chunk** (`CHUNK_TABLES`, `chunks.encode`: a few bytes per bucket) in the
same transaction, and chunks older than the tier keeps are deleted. Windows start at an offset
per series, so the daemon's series do not all close their chunks in the same minute.

Reading merges chunks, segments and head; a bucket that appears twice (a restart inside it, a
late sample, a window completed after a migration) is folded into one.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.errors import StoreError
from watchkeeper.store import chunks
from watchkeeper.store.chunks import Bucket
from watchkeeper.store.rollup import COARSE_TIERS, Rollups
from watchkeeper.store.schema import CHUNK_TABLES, METRIC_TIERS

log = logging.getLogger(__name__)

WINDOWS = (120, 96, 72)
"""Buckets per chunk, per tier: 2 hours of minutes, 8 hours of 5 minutes, 3 days of hours.
Longer windows compress a little better, but a head holds its window uncompressed (10 bytes a
sample, 30 bytes a coarse bucket): with a day of 5-minute buckets the heads were a third of
the metric tables after three days."""

_SAMPLE = struct.Struct("<Hd")      # 1-minute head record: bucket offset in the window, value
_BUCKET = struct.Struct("<HIddd")   # coarse head record: bucket offset, n, total, lo, hi
_TIERS = len(METRIC_TIERS)

SEGMENT_BYTES = 320
"""The most a head holds before its records move to a segment: 32 samples or 10 coarse buckets.
Without segments a head at a sample every 15 s grew to 480 samples (4.8 KB) by the end of its
window, and an append cost 15.7 µs there against 4.6 µs at 300 bytes."""

Sample = tuple[int, float, float]
"""(series, ts, value)."""


def head_key(series: int, tier: int) -> int:
    return series * _TIERS + tier


def window_start(series: int, tier: int, bucket: int) -> int:
    width = WINDOWS[tier]
    return bucket - (bucket - series * 7919 % width) % width


def head_buckets(tier: int, start: int, data: bytes) -> list[Bucket]:
    if tier == 0:
        return [(start + offset, 1, value, value, value) for offset, value in _SAMPLE.iter_unpack(data)]
    return [(start + offset, n, total, lo, hi) for offset, n, total, lo, hi in _BUCKET.iter_unpack(data)]


def read(db: sqlite3.Connection, series: int, tier: int, first: int, last: int) -> list[Bucket]:
    """Buckets `first`..`last` of one series and tier, merged, in order. A damaged chunk is
    left out with a log line naming it; the rest of the series is still shown."""
    found: list[Bucket] = []
    for start, data in db.execute(f"SELECT start, data FROM {CHUNK_TABLES[tier]} WHERE series = ? "
                                  "AND start <= ? AND end >= ? ORDER BY start", (series, last, first)):
        try:
            found += chunks.decode(data)
        except StoreError as exc:
            log.warning("metric series %d, tier %d, chunk at bucket %d: %s", series, tier, start, exc)
    found += open_window(db, series, tier)
    return [bucket for bucket in chunks.merge(found) if first <= bucket[0] <= last]


def open_window(db: sqlite3.Connection, series: int, tier: int) -> list[Bucket]:
    """What the head of a series and tier holds, with its segments."""
    key = head_key(series, tier)
    head = db.execute("SELECT start, data FROM metric_heads WHERE key = ?", (key,)).fetchone()
    if head is None:
        return []
    data = b"".join(_whole_records(tier, part) for (part,) in db.execute(
        "SELECT data FROM metric_segments WHERE key = ? ORDER BY id", (key,))) + _whole_records(tier, head[1])
    return head_buckets(tier, head[0], data)


def last_bucket(db: sqlite3.Connection, series: int, tier: int) -> int | None:
    """The newest bucket a tier holds for a series, if any."""
    held = open_window(db, series, tier)
    if held:
        return max(bucket[0] for bucket in held)
    row = db.execute(f"SELECT max(end) FROM {CHUNK_TABLES[tier]} WHERE series = ?", (series,)).fetchone()
    return None if row[0] is None else int(row[0])


def store_chunk(db: sqlite3.Connection, series: int, tier: int, start: int, buckets: list[Bucket]) -> None:
    """Merge buckets into the chunk of the window beginning at `start`, and drop the chunks
    of this series and tier that fell out of the tier's retention."""
    if not buckets:
        return
    table = CHUNK_TABLES[tier]
    existing = db.execute(f"SELECT data FROM {table} WHERE series = ? AND start = ?", (series, start)).fetchone()
    if existing is not None:
        try:
            buckets = buckets + chunks.decode(existing[0])
        except StoreError as exc:
            log.warning("metric series %d, tier %d: a damaged chunk at bucket %d is replaced: %s",
                        series, tier, start, exc)
    merged = chunks.merge(buckets)
    end = merged[-1][0]
    db.execute(f"INSERT OR REPLACE INTO {table} (series, start, end, data) VALUES (?, ?, ?, ?)",
               (series, start, end, chunks.encode(merged)))
    db.execute(f"DELETE FROM {table} WHERE series = ? AND end < ?", (series, end - METRIC_TIERS[tier][1]))


def store_buckets(db: sqlite3.Connection, series: int, tier: int, buckets: Iterable[Bucket]) -> None:
    """Buckets of any age (a migration, a late sample), each into its window's chunk."""
    windows: dict[int, list[Bucket]] = {}
    for bucket in buckets:
        windows.setdefault(window_start(series, tier, bucket[0]), []).append(bucket)
    for start in sorted(windows):
        store_chunk(db, series, tier, start, windows[start])


def _whole_records(tier: int, data: bytes) -> bytes:
    size = (_BUCKET if tier else _SAMPLE).size
    return data[:len(data) - len(data) % size]


@dataclass(slots=True)
class _Batch:
    """What one write changes in memory, applied only once its transaction has committed."""
    heads: dict[int, int] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    catch_up: list[tuple[int, int, Bucket]] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    closed: int = 0


class MetricWriter:
    """The writing connection's side of the metric history: where each head's window begins,
    the coarse buckets still filling, and which series have been caught up since start."""

    def __init__(self) -> None:
        self.rollups = Rollups()
        self._heads: dict[int, int] | None = None
        """head key -> first bucket of its window; read from the store at the first write."""
        self._sizes: dict[int, int] = {}
        """head key -> bytes its head holds (without its segments): when to move them to a segment."""
        self._seen: set[int] = set()

    def write(self, db: sqlite3.Connection, samples: list[Sample]) -> Callable[[], None]:
        """Append samples and the coarse buckets that closed, inside the caller's transaction;
        returns what to call once it has committed."""
        heads = self._heads
        if heads is None:
            heads = self._heads = {}
            for key, start, size in db.execute("SELECT key, start, length(data) FROM metric_heads"):
                heads[key], self._sizes[key] = start, size
        batch = _Batch(samples=samples, closed=len(self.rollups.closed))
        appends: dict[int, bytearray] = {}
        latest: dict[int, tuple[float, float]] = {}
        step, width = METRIC_TIERS[0][0], WINDOWS[0]
        pack = _SAMPLE.pack
        for series, ts, value in samples:
            if series not in self._seen and series not in batch.seen:
                batch.seen.add(series)
                batch.catch_up += self._catch_up(db, series)
            bucket = int(ts // step)
            key = series * _TIERS
            start = batch.heads.get(key, heads.get(key))
            if start is None or not start <= bucket < start + width:
                # the next window, or an earlier one (a late cycle, the clock stepped back): its
                # head is merged into that window's chunk when it closes
                start = self._next_window(db, series, 0, bucket, start, appends, batch)
            record = pack(bucket - start, value)
            buffer = appends.get(key)
            if buffer is None:
                appends[key] = bytearray(record)
            else:
                buffer += record
            latest[key] = (ts, value)
        coarse: dict[int, bytearray] = {}
        for series, tier, bucket, n, total, lo, hi in self.rollups.closed:
            key = series * _TIERS + tier
            start = batch.heads.get(key, heads.get(key))
            if start is None or not start <= bucket < start + WINDOWS[tier]:
                start = self._next_window(db, series, tier, bucket, start, coarse, batch)
            coarse.setdefault(key, bytearray()).extend(_BUCKET.pack(bucket - start, n, total, lo, hi))
        self._append(db, appends, latest)
        self._append(db, coarse, None)
        return lambda: self._committed(batch)

    def _append(self, db: sqlite3.Connection, appends: dict[int, bytearray],
                latest: dict[int, tuple[float, float]] | None) -> None:
        """Append records to their heads; a head that would grow past `SEGMENT_BYTES` moves
        what it holds to a segment first and holds only the new records."""
        grown: list[tuple[Any, ...]] = []
        moved: list[tuple[Any, ...]] = []
        sizes = self._sizes  # a hint only, so kept up to date at once: after a rollback a head moves early or late
        for key, data in appends.items():
            size = sizes.get(key, 0)
            added = len(data)
            row = (bytes(data), *latest[key], key) if latest is not None else (bytes(data), key)
            if size and size + added > SEGMENT_BYTES:
                moved.append(row)
                sizes[key] = added
            else:
                grown.append(row)
                sizes[key] = size + added
        if moved:
            db.executemany("INSERT INTO metric_segments (key, data) SELECT key, data FROM metric_heads WHERE key = ?",
                           [row[-1:] for row in moved])
        fresh = ", last_ts = ?, last_value = ?" if latest is not None else ""
        db.executemany(f"UPDATE metric_heads SET data = ?{fresh} WHERE key = ?", moved)
        # `||` makes text of two blobs; the cast gives back the same bytes as a blob
        db.executemany(f"UPDATE metric_heads SET data = CAST(data || ? AS BLOB){fresh} WHERE key = ?", grown)

    def forget(self, series: set[int]) -> None:
        if self._heads is not None:
            self._heads = {key: start for key, start in self._heads.items() if key // _TIERS not in series}
            self._sizes = {key: size for key, size in self._sizes.items() if key // _TIERS not in series}
        self._seen -= series
        self.rollups.forget(series)

    def _committed(self, batch: _Batch) -> None:
        assert self._heads is not None
        self._heads.update(batch.heads)
        self._seen |= batch.seen
        rollups = self.rollups
        del rollups.closed[:batch.closed]
        for series, tier, (bucket, n, total, lo, hi) in batch.catch_up:
            rollups.add(series, bucket * METRIC_TIERS[0][0], n, total, lo, hi, (COARSE_TIERS[tier - 1],))
        add = rollups.add
        for series, ts, value in batch.samples:
            add(series, ts, 1, value, value, value)

    def _next_window(self, db: sqlite3.Connection, series: int, tier: int, bucket: int, start: int | None,
                     appends: dict[int, bytearray], batch: _Batch) -> int:
        """Close the head's window into a chunk (with what this batch appended to it) and
        begin the window that holds `bucket`."""
        key = series * _TIERS + tier
        if start is None:  # a new series, or one forgotten (its host removed with its history kept, then back)
            row = db.execute("SELECT start FROM metric_heads WHERE key = ?", (key,)).fetchone()
            start = None if row is None else int(row[0])
        if start is not None:
            held = open_window(db, series, tier)
            pending = bytes(appends.pop(key, b""))
            store_chunk(db, series, tier, start, held + head_buckets(tier, start, _whole_records(tier, pending)))
            db.execute("DELETE FROM metric_segments WHERE key = ?", (key,))
        new = window_start(series, tier, bucket)
        db.execute("INSERT INTO metric_heads (key, series, tier, start, data) VALUES (?, ?, ?, ?, x'') "
                   "ON CONFLICT (key) DO UPDATE SET start = excluded.start, data = x''", (key, series, tier, new))
        batch.heads[key] = new
        self._sizes[key] = 0
        return new

    def _catch_up(self, db: sqlite3.Connection, series: int) -> list[tuple[int, int, Bucket]]:
        """The series' 1-minute buckets that no coarse bucket holds yet (those that were still
        filling when the daemon stopped or was killed), per coarse tier, to fold in again."""
        newest = last_bucket(db, series, 0)
        if newest is None:
            return []  # a new series
        fine = METRIC_TIERS[0][0]
        firsts = {}
        for tier, step in COARSE_TIERS:
            done = last_bucket(db, series, tier)
            firsts[tier] = max(0 if done is None else (done + 1) * step // fine, newest - METRIC_TIERS[0][1])
        minutes = read(db, series, 0, min(firsts.values()), newest)  # one read for both tiers
        return [(series, tier, bucket) for tier, first in firsts.items() for bucket in minutes if bucket[0] >= first]
