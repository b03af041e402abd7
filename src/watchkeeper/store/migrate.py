"""Converting a store written by an older Watchkeeper, when it is opened.

Version 1 kept a row per metric point (`metric_points`, 38 bytes each, in three rings); its
points are re-written as chunks (`metric_history`), a few hundred series per transaction, and
each batch deletes the rows it converted, so a conversion that is interrupted (a `kill -9`, a
full disk) goes on where it stopped at the next start and never converts a point twice.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from watchkeeper.store.metric_history import store_buckets
from watchkeeper.store.schema import METRIC_TIERS, PAGE_SIZE

log = logging.getLogger(__name__)

SERIES_PER_TRANSACTION = 200
PROGRESS_EVERY_S = 2.0


def convert_metric_points(db: sqlite3.Connection,
                          transaction: Callable[[str], AbstractContextManager[sqlite3.Connection]],
                          say: Callable[[str], None] = log.warning) -> int:
    """Convert every series still in `metric_points`, then drop the table; returns how many
    points were converted. `transaction(doing)` is the store's transaction context."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metric_points'").fetchone() is None:
        return 0
    pending = [row[0] for row in db.execute("SELECT DISTINCT series FROM metric_points ORDER BY series")]
    say(f"converting the metric history of {len(pending):,} series to compressed chunks (store format 2); "
        "this runs once")
    converted = damaged = 0
    started = said = time.monotonic()
    for done in range(0, len(pending), SERIES_PER_TRANSACTION):
        batch = pending[done:done + SERIES_PER_TRANSACTION]
        with transaction(f"converting the metric history of {len(batch)} series") as tx:
            for series in batch:
                for tier in range(len(METRIC_TIERS)):
                    rows = tx.execute("SELECT bucket, n, total, lo, hi FROM metric_points "
                                      "WHERE series = ? AND tier = ? ORDER BY bucket", (series, tier)).fetchall()
                    good = [row for row in rows if _readable(row)]
                    damaged += len(rows) - len(good)
                    store_buckets(tx, series, tier, good)
                    converted += len(good)
                tx.execute("DELETE FROM metric_points WHERE series = ?", (series,))
        if time.monotonic() - said >= PROGRESS_EVERY_S:
            said = time.monotonic()
            say(f"converted {done + len(batch):,} of {len(pending):,} series ({converted:,} points)")
    with transaction("dropping the converted metric_points table") as tx:
        tx.execute("DROP TABLE metric_points")
        tx.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    say(f"converted {converted:,} points of {len(pending):,} series in {time.monotonic() - started:.1f} s"
        + (f"; {damaged:,} damaged points (not numbers) were left out" if damaged else ""))
    compact(db, say)
    return converted


def compact(db: sqlite3.Connection, say: Callable[[str], None]) -> None:
    """Give the space of the dropped rows back to the filesystem and take the page size new
    stores have (`PAGE_SIZE`), by rewriting the file once (VACUUM, which needs WAL off). If
    that cannot be done now (another process has the store open, the disk is too full for a
    copy), the store works as it is and this is said."""
    say("rewriting the store file once to give back the space of the old rows")
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        db.execute("VACUUM")
    except sqlite3.Error as exc:
        say(f"the store file was not rewritten ({exc}); it works as it is, with its old rows' space kept free")
    finally:
        db.execute("PRAGMA journal_mode=WAL")


def _readable(row: tuple[object, ...]) -> bool:
    return (isinstance(row[0], int) and isinstance(row[1], int) and row[1] > 0
            and all(isinstance(value, (int, float)) for value in row[2:]))
