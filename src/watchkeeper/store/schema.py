"""The SQLite schema. WAL mode: readers (CLI, web) never block the daemon's writes, and a
killed daemon loses only the transaction it had not committed."""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 2
"""2: metric history in compressed chunks (`metric_heads`, `CHUNK_TABLES`) instead of a row
per point (`metric_points`); a store of version 1 is converted when it is opened."""

METRIC_TIERS = ((60, 2 * 24 * 60), (300, 60 * 24 * 12), (3600, 2 * 365 * 24))
"""(step seconds, buckets kept): 1-minute points for 48 h, 5-minute for 60 days, 1-hour for 2 years."""

PAGE_SIZE = 8192
"""Pages of 8 KiB: a metric chunk is a row of a few hundred bytes to 2 KB, and with 4 KiB pages
a fifth of the chunk tables' pages stayed empty (rows that do not fit the rest of a page);
with 8 KiB, 6 %. Writing costs the same (bench/metric_storage.py, both sizes side by side)."""

CHUNK_TABLES = ("metric_chunks_1m", "metric_chunks_5m", "metric_chunks_1h")
"""A table of closed chunks per tier. Each is written in time order and loses its oldest rows
first, so whole pages fall free and are reused; in one shared table the 1-minute tier's deleted
chunks left holes between the coarse tiers' rows that kept 30 % of its pages empty."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hosts (
    name        TEXT PRIMARY KEY,
    uri         TEXT NOT NULL,
    interval_s  REAL NOT NULL,
    options     TEXT NOT NULL DEFAULT '{}',
    created     REAL NOT NULL,
    state       TEXT NOT NULL DEFAULT 'PENDING',
    state_since REAL,
    last_fetch  REAL,
    last_ok     REAL,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS services (
    host        TEXT NOT NULL,
    name        TEXT NOT NULL,
    plugin      TEXT NOT NULL,
    item        TEXT NOT NULL,
    facts       TEXT NOT NULL DEFAULT '{}',
    accepted    REAL NOT NULL,
    state       INTEGER NOT NULL DEFAULT -1,
    stale       INTEGER NOT NULL DEFAULT 0,
    summary     TEXT NOT NULL DEFAULT 'not checked yet',
    details     TEXT NOT NULL DEFAULT '',
    last_check  REAL,
    last_change REAL,
    PRIMARY KEY (host, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_history (
    id      INTEGER PRIMARY KEY,
    host    TEXT NOT NULL,
    service TEXT NOT NULL,
    ts      REAL NOT NULL,
    state   INTEGER NOT NULL,
    stale   INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS state_history_by_service ON state_history (host, service, ts);
CREATE TABLE IF NOT EXISTS value_store (
    host    TEXT NOT NULL,
    service TEXT NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (host, service)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metric_series (
    id      INTEGER PRIMARY KEY,
    host    TEXT NOT NULL,
    service TEXT NOT NULL,
    metric  TEXT NOT NULL,
    UNIQUE (host, service, metric)
);
CREATE TABLE IF NOT EXISTS metric_heads (
    key        INTEGER PRIMARY KEY,  -- series * 3 + tier: one lookup per append
    series     INTEGER NOT NULL,
    tier       INTEGER NOT NULL,
    start      INTEGER NOT NULL,     -- first bucket of the open window
    last_ts    REAL,                 -- the newest sample (1-minute tier): what "latest value" reads
    last_value REAL,
    data       BLOB NOT NULL         -- fixed-size records, appended (metric_history.py)
);
CREATE TABLE IF NOT EXISTS metric_segments (  -- a head's earlier records, moved out in pieces of a few hundred bytes
    id   INTEGER PRIMARY KEY,
    key  INTEGER NOT NULL,                     -- the head's
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_segments_key ON metric_segments (key, id);
""" + "".join(f"""
CREATE TABLE IF NOT EXISTS {table} (
    id     INTEGER PRIMARY KEY,
    series INTEGER NOT NULL,
    start  INTEGER NOT NULL,  -- first bucket of the window
    end    INTEGER NOT NULL,  -- last bucket it holds
    data   BLOB NOT NULL,     -- chunks.py
    UNIQUE (series, start)
);""" for table in CHUNK_TABLES) + """
CREATE TABLE IF NOT EXISTS remote_write_queue (
    id      INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    samples INTEGER NOT NULL,
    body    BLOB NOT NULL  -- a Prometheus remote-write request, ready to send (tsdb/remote_write.py)
);
CREATE TABLE IF NOT EXISTS inventory_sources (
    name     TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,  -- piggyback | file (model/inventory.py)
    settings TEXT NOT NULL,  -- JSON
    created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS inventory_hosts (
    host    TEXT PRIMARY KEY,  -- a host an inventory source made, and is the source's to change
    source  TEXT NOT NULL,
    seen    REAL NOT NULL,
    retired REAL               -- when its source stopped listing it; removed after the grace period
);
CREATE TABLE IF NOT EXISTS inventory_log (
    id     INTEGER PRIMARY KEY,
    at     REAL NOT NULL,
    source TEXT NOT NULL,
    host   TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS piggyback_targets (
    source TEXT NOT NULL,  -- a host whose output speaks of other hosts
    target TEXT NOT NULL,
    labels TEXT NOT NULL,  -- JSON: what the data says of the target (`<<<labels>>>`)
    seen   REAL NOT NULL,
    PRIMARY KEY (source, target)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_log (
    id     INTEGER PRIMARY KEY,
    at     REAL NOT NULL,
    actor  TEXT NOT NULL,  -- a web user, `token:NAME`, or `cli:USER`
    action TEXT NOT NULL,  -- e.g. `host add`, `rule remove` (store/audit_tables.py)
    target TEXT NOT NULL,  -- what it changed: a host, `host/service`, a rule's id
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE TABLE IF NOT EXISTS ignored_services (
    host    TEXT NOT NULL,  -- discovery finds the service, and is told not to offer it again
    name    TEXT NOT NULL,
    author  TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (host, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS baseline_rules (
    id       INTEGER PRIMARY KEY,
    settings TEXT NOT NULL,  -- JSON (model/baselines.py, BaselineRule)
    created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS metric_baselines (
    series   INTEGER PRIMARY KEY,  -- metric_series.id
    host     TEXT NOT NULL,
    service  TEXT NOT NULL,
    metric   TEXT NOT NULL,
    rule     INTEGER NOT NULL,
    data     TEXT NOT NULL,  -- JSON: per hour of the week centre and spread, peak, the rule's levels
    computed REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rules (
    id        INTEGER PRIMARY KEY,
    plugin    TEXT NOT NULL,
    host_glob TEXT NOT NULL DEFAULT '*',
    item_glob TEXT NOT NULL DEFAULT '*',
    params    TEXT NOT NULL,
    comment   TEXT NOT NULL DEFAULT '',
    created   REAL NOT NULL,
    host_labels TEXT NOT NULL DEFAULT '{}'  -- JSON: labels a host must carry, each with this value
);
CREATE TABLE IF NOT EXISTS alerts (
    host    TEXT NOT NULL,
    service TEXT NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (host, service)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS downtimes (
    id        INTEGER PRIMARY KEY,
    host      TEXT NOT NULL,
    service   TEXT,
    start     REAL NOT NULL,
    end       REAL NOT NULL,
    recurring TEXT NOT NULL DEFAULT '',
    zone      TEXT NOT NULL DEFAULT 'UTC',
    author    TEXT NOT NULL,
    comment   TEXT NOT NULL,
    created   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS acknowledgements (
    host    TEXT NOT NULL,
    service TEXT NOT NULL,
    state   INTEGER NOT NULL,
    author  TEXT NOT NULL,
    comment TEXT NOT NULL,
    sticky  INTEGER NOT NULL,
    expires REAL,
    created REAL NOT NULL,
    PRIMARY KEY (host, service)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notify_channels (
    name   TEXT PRIMARY KEY,
    kind   TEXT NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notify_contacts (
    name     TEXT PRIMARY KEY,
    email    TEXT NOT NULL DEFAULT '',
    channels TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notify_rules (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: alert states remember rules by id
    spec    TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS notify_spool (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    status     TEXT NOT NULL,
    contact    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    due        REAL NOT NULL,
    created    REAL NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    sent       REAL,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notify_spool_by_status ON notify_spool (status, due);
CREATE TABLE IF NOT EXISTS active_checks (
    host    TEXT NOT NULL,
    name    TEXT NOT NULL,
    spec    TEXT NOT NULL,
    PRIMARY KEY (host, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS passive_inbox (
    id       INTEGER PRIMARY KEY,
    host     TEXT NOT NULL,
    service  TEXT NOT NULL,
    state    INTEGER NOT NULL,
    output   TEXT NOT NULL,
    received REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS metric_levels (
    series INTEGER PRIMARY KEY,
    warn   REAL,
    crit   REAL
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a revoked id stays revoked
    name      TEXT NOT NULL,
    digest    TEXT NOT NULL UNIQUE,
    scope     TEXT NOT NULL,
    created   REAL NOT NULL,
    last_used REAL,
    revoked   REAL
);
CREATE TABLE IF NOT EXISTS web_users (
    name     TEXT PRIMARY KEY,
    password TEXT NOT NULL,
    scope    TEXT NOT NULL,
    created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS web_sessions (
    digest  TEXT PRIMARY KEY,
    user    TEXT NOT NULL,
    csrf    TEXT NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID;
"""

ADDED_COLUMNS = {"rules": (("host_labels", "TEXT NOT NULL DEFAULT '{}'"),)}
"""Columns newer than the table: added to a store made before them, when it is opened."""


def add_missing_columns(db: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns:
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


CONFIG_TABLES = {
    "hosts": "uri, interval_s, options", "services": "plugin, item, facts", "rules": "", "active_checks": "",
    "downtimes": "", "acknowledgements": "", "notify_channels": "", "notify_contacts": "", "notify_rules": "",
    "baseline_rules": "", "metric_baselines": "", "ignored_services": "",
}
"""Tables whose changes the daemon applies (the columns that matter, or every column)."""

CONFIG_COUNTERS = "CREATE TABLE IF NOT EXISTS config_counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);\n" + \
    "".join(f"INSERT OR IGNORE INTO config_counters (name, n) VALUES ('{table}', 0);\n" for table in CONFIG_TABLES) + \
    "".join(
        f"CREATE TRIGGER IF NOT EXISTS {table}_{event.split()[0].lower()}_changed AFTER {event} ON {table} "
        f"BEGIN UPDATE config_counters SET n = n + 1 WHERE name = '{table}'; END;\n"
        for table, columns in CONFIG_TABLES.items()
        for event in ("INSERT", "DELETE", f"UPDATE OF {columns}" if columns else "UPDATE"))
"""A counter per configuration table that every change raises, in the change's own transaction,
whoever makes it (CLI, web, Livestatus, another process): the daemon reads these few integers
twice a second and re-reads only the tables whose counter moved."""
