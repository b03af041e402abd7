"""A store written by an older Watchkeeper is converted on open: format 1 (a row per metric point)
without losing a point, a conversion cut short going on where it stopped; tables get newer columns."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from watchkeeper.store import metric_history
from watchkeeper.store.database import Store
from watchkeeper.store.migrate import SERIES_PER_TRANSACTION, convert_metric_points
from watchkeeper.store.schema import METRIC_TIERS, PAGE_SIZE, SCHEMA

FORMAT_1_POINTS = """
CREATE TABLE metric_points (
    series INTEGER NOT NULL,
    tier   INTEGER NOT NULL,
    slot   INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    total  REAL NOT NULL,
    lo     REAL NOT NULL,
    hi     REAL NOT NULL,
    PRIMARY KEY (series, tier, slot)
) WITHOUT ROWID;
"""
"""The table as format 1 created it (schema.py before format 2)."""

NOW = 1_800_000_000


def format_1_store(path: Path, series: int) -> list[tuple[int, int, int, int, float, float, float]]:
    """A store as format 1 left it: every series with two days of minutes (one of them
    holding two samples), 5-minute and hourly rows; returns the points."""
    db = sqlite3.connect(path)
    db.executescript(FORMAT_1_POINTS + "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "INSERT INTO meta VALUES ('schema_version', '1');")
    points = []
    for s in range(1, series + 1):
        db.execute("CREATE TABLE IF NOT EXISTS metric_series (id INTEGER PRIMARY KEY, host TEXT NOT NULL, "
                   "service TEXT NOT NULL, metric TEXT NOT NULL, UNIQUE (host, service, metric))")
        db.execute("INSERT INTO metric_series VALUES (?, 'web1', ?, 'fs_used_bytes')", (s, f"Filesystem /{s}"))
        for tier, (step, slots) in enumerate(METRIC_TIERS):
            last = NOW // step
            for bucket in range(last - min(slots, 2 * 86400 // step) + 1, last + 1):
                n = 2 if bucket == last and tier == 0 else 1 if tier == 0 else step // 60
                value = float(s * 1000 + bucket % 97)
                points.append((s, tier, bucket, n, value * n, value - 1 if n > 1 else value, value + (n > 1)))
    db.executemany("INSERT INTO metric_points VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [(s, t, b % METRIC_TIERS[t][1], b, n, total, lo, hi) for s, t, b, n, total, lo, hi in points])
    db.commit()
    db.close()
    return points


def stored(store: Store, series: int) -> list[tuple[int, int, int, int, float, float, float]]:
    return [(series, tier, *bucket) for tier in range(len(METRIC_TIERS))
            for bucket in metric_history.read(store.db, series, tier, 0, 2**40)]


def test_a_format_1_store_is_converted_on_open_with_every_point(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                                                 ) -> None:
    points = format_1_store(tmp_path / "wk.db", 3)
    assert sqlite3.connect(tmp_path / "wk.db").execute("PRAGMA page_size").fetchone() == (4096,)
    store = Store(tmp_path / "wk.db")
    assert [p for s in (1, 2, 3) for p in stored(store, s)] == points
    assert store.query("SELECT value FROM meta WHERE key = 'schema_version'") == [("2",)]
    assert store.query("SELECT name FROM sqlite_master WHERE name = 'metric_points'") == []
    assert store.query("PRAGMA integrity_check") == [("ok",)]
    assert store.query("PRAGMA page_size") == [(PAGE_SIZE,)]  # the file was rewritten once
    assert store.query("PRAGMA journal_mode") == [("wal",)]
    assert "converting the metric history of 3 series" in caplog.text
    assert f"converted {len(points):,} points of 3 series" in caplog.text
    [latest] = store.metric_points("web1", "Filesystem /1", "fs_used_bytes", NOW, NOW + 1, now=NOW)
    assert (latest.avg, latest.lo, latest.hi) == (1000.0 + NOW // 60 % 97, 999.0 + NOW // 60 % 97,
                                                  1001.0 + NOW // 60 % 97)


def test_a_conversion_cut_short_goes_on_where_it_stopped(tmp_path: Path) -> None:
    series = SERIES_PER_TRANSACTION + 5
    points = format_1_store(tmp_path / "wk.db", series)
    db = sqlite3.connect(tmp_path / "wk.db", isolation_level=None)
    calls = 0

    class Stop(Exception):
        pass

    def said(message: str) -> None:
        pass

    @contextmanager
    def transaction(doing: str) -> Iterator[sqlite3.Connection]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Stop  # the process dies before the second batch
        db.execute("BEGIN IMMEDIATE")
        yield db
        db.execute("COMMIT")

    db.executescript(SCHEMA)
    with pytest.raises(Stop):
        convert_metric_points(db, transaction, said)
    left = db.execute("SELECT count(DISTINCT series) FROM metric_points").fetchone()[0]
    assert left == 5
    db.close()
    store = Store(tmp_path / "wk.db")  # the next start finishes it
    assert [p for s in range(1, series + 1) for p in stored(store, s)] == points


def test_damaged_points_are_left_out_and_counted_and_the_rest_converted(tmp_path: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    points = format_1_store(tmp_path / "wk.db", 1)
    db = sqlite3.connect(tmp_path / "wk.db")
    db.execute("UPDATE metric_points SET total = 'not a number' WHERE tier = 0 AND bucket = ?", (NOW // 60,))
    db.commit()
    db.close()
    store = Store(tmp_path / "wk.db")
    assert stored(store, 1) == [p for p in points if p[1:3] != (0, NOW // 60)]
    assert "1 damaged points (not numbers) were left out" in caplog.text


def test_a_store_with_rules_from_before_host_labels_gets_the_column_and_keeps_its_rules(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE rules (id INTEGER PRIMARY KEY, plugin TEXT NOT NULL, host_glob TEXT NOT NULL DEFAULT '*', "
               "item_glob TEXT NOT NULL DEFAULT '*', params TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '', "
               "created REAL NOT NULL)")
    db.execute("INSERT INTO rules (plugin, params, created) VALUES ('df', '{\"used_percent\": [85, 95]}', 1.0)")
    db.commit()
    db.close()
    store = Store(path)
    [rule] = store.rules()
    assert (rule.plugin, rule.params, rule.host_labels) == ("df", {"used_percent": [85, 95]}, {})
    store.add_rule("df", {}, host_labels={"role": "db"})
    assert store.rules()[1].host_labels == {"role": "db"}
