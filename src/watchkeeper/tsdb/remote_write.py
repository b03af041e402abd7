"""Prometheus remote write: every service metric, also sent to a time-series database.

Each batch the results sink writes is turned, in the same transaction, into remote-write
requests (`Outbox.enqueue`) kept in the store's `remote_write_queue`; a sender (`Sender.run`)
posts them oldest first and deletes each one the receiver accepted. So a database that is down,
restarting or unreachable loses nothing: the queue grows (bounded by `max_backlog_bytes`; the
oldest requests are dropped beyond it, counted and logged) and drains when it answers again,
and a daemon killed meanwhile finds the queue where it left it.

The request is the remote-write 1.0 protocol: a protobuf `WriteRequest` (time series of labels
and samples), snappy block-compressed, POSTed with `Content-Encoding: snappy`. Prometheus
(`--web.enable-remote-write-receiver`, /api/v1/write) and VictoriaMetrics (/api/v1/write)
receive it. A 2xx is accepted; 429, 5xx and connection errors are retried with back-off; any
other 4xx means the receiver will never take that request (samples too old for it, say), so it
is dropped, counted and its answer logged.

The protobuf is encoded here rather than with the protobuf runtime: that needs classes
generated from the .proto by protoc at build time, for a message of four field types.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import sqlite3
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import cramjam
import httpx

from watchkeeper.store.database import NamedSample, Store

log = logging.getLogger(__name__)

SAMPLES_PER_REQUEST = 5_000
DEFAULT_MAX_BACKLOG_BYTES = 512 * 1024 * 1024
RETRY_MAX_S = 30.0
_DOUBLE = struct.Struct("<d")
_NOT_IN_NAME = re.compile(r"[^a-zA-Z0-9_:]")


@dataclass(frozen=True, slots=True)
class RemoteWriteConfig:
    url: str
    site: str
    token: str | None = field(default=None, repr=False)
    """A bearer token (read from a file; never logged)."""
    timeout_s: float = 10.0
    max_backlog_bytes: int = DEFAULT_MAX_BACKLOG_BYTES


def metric_name(name: str) -> str:
    """A Prometheus metric name: our names (`fs_used_bytes`) are already; a plugin's perfdata
    label may hold anything, which becomes `_`."""
    cleaned = _NOT_IN_NAME.sub("_", name) or "_"
    return "_" + cleaned if cleaned[0].isdigit() else cleaned


# ---------------------------------------------------------------------- protobuf
def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _label(name: str, value: str) -> bytes:
    return _field(1, _field(1, name.encode()) + _field(2, value.encode()))


def _series_labels(host: str, service: str, metric: str, site: str) -> bytes:
    return (_label("__name__", metric_name(metric)) + _label("host", host) + _label("service", service)
            + _label("site", site))


class _Encoder:
    """Labels encoded once per series and timestamps once per batch: encoding each sample's
    labels again was most of the write path's extra cost."""

    MAX_SERIES = 200_000

    def __init__(self, site: str) -> None:
        self.site = site
        self.labels: dict[tuple[str, str, str], bytes] = {}

    def request(self, samples: list[NamedSample]) -> bytes:
        """A remote-write request, snappy-compressed: one time series per (host, service,
        metric), labels sorted by name as the protocol asks."""
        if len(self.labels) > self.MAX_SERIES:
            self.labels.clear()
        labels = self.labels
        stamps: dict[float, bytes] = {}
        pack = _DOUBLE.pack
        series: dict[tuple[str, str, str], list[bytes]] = {}
        for host, service, metric, ts, value in samples:
            if not math.isfinite(value):
                continue
            stamp = stamps.get(ts)
            if stamp is None:  # Sample: double value = 1 (wire type 1), int64 timestamp = 2 in ms (wire type 0)
                stamp = stamps[ts] = b"\x10" + _varint(max(0, round(ts * 1000)))
            payload = b"\x09" + pack(value) + stamp
            key = (host, service, metric)
            points = series.get(key)
            if points is None:
                points = series[key] = []
                if key not in labels:
                    labels[key] = _series_labels(host, service, metric, self.site)
            points.append(b"\x12" + _varint(len(payload)) + payload)
        body = b"".join(_field(1, labels[key] + b"".join(points)) for key, points in series.items())
        return bytes(cramjam.snappy.compress_raw(body))


# ---------------------------------------------------------------------- queue
class Outbox:
    """Queues each written batch's samples as requests, inside the batch's transaction."""

    CHECK_SIZE_EVERY = 60
    """Batches between two measurements of the queue's size (a scan of its rows)."""

    def __init__(self, config: RemoteWriteConfig) -> None:
        self.config = config
        self.dropped = 0
        self._batches = 0
        self._encoder = _Encoder(config.site)

    def enqueue(self, db: sqlite3.Connection, samples: list[NamedSample]) -> None:
        now = time.time()
        rows = [(now, len(part), self._encoder.request(part))
                for part in (samples[i:i + SAMPLES_PER_REQUEST] for i in range(0, len(samples), SAMPLES_PER_REQUEST))]
        db.executemany("INSERT INTO remote_write_queue (created, samples, body) VALUES (?, ?, ?)", rows)
        self._batches += 1
        if self._batches % self.CHECK_SIZE_EVERY:
            return
        size = db.execute("SELECT coalesce(sum(length(body)), 0) FROM remote_write_queue").fetchone()[0]
        if size > self.config.max_backlog_bytes:
            self._drop_oldest(db, size - self.config.max_backlog_bytes)

    def _drop_oldest(self, db: sqlite3.Connection, excess: int) -> None:
        gone, samples, freed = [], 0, 0
        for row_id, count, length in db.execute("SELECT id, samples, length(body) FROM remote_write_queue "
                                                "ORDER BY id"):
            if freed >= excess:
                break
            gone.append((row_id,))
            samples += count
            freed += length
        db.executemany("DELETE FROM remote_write_queue WHERE id = ?", gone)
        db.execute("INSERT INTO meta (key, value) VALUES ('remote_write_dropped_samples', ?) ON CONFLICT (key) "
                   "DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value", (samples,))
        self.dropped += samples
        log.error("remote write: the queue passed its limit of %d bytes (the database has not accepted requests "
                  "for a while); its %d oldest samples are dropped", self.config.max_backlog_bytes, samples)


# ---------------------------------------------------------------------- sender
@dataclass(slots=True)
class SenderStats:
    sent_samples: int = 0
    sent_requests: int = 0
    rejected_samples: int = 0
    failures: int = 0
    last_error: str = ""


class Sender:
    """Posts the queue, oldest first, on its own store connection; one request at a time
    keeps the receiver's samples in order per series."""

    def __init__(self, database: Path, config: RemoteWriteConfig, transport: httpx.AsyncBaseTransport | None = None
                 ) -> None:
        self.database = database
        self.config = config
        self.stats = SenderStats()
        self._transport = transport

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop`: the queue as it fills, with back-off while the receiver fails."""
        store = Store(self.database)
        try:
            async with self._client() as client:
                while not stop.is_set():
                    empty = await self.send_queued(client, store)
                    delay = 1.0 if empty else min(RETRY_MAX_S, 0.5 * 2 ** min(self.stats.failures - 1, 8))
                    if await _wait(stop, delay):
                        break
        finally:
            store.close()

    async def send_all(self) -> bool:
        """Send what is queued now, once; True when the queue was emptied."""
        store = Store(self.database)
        try:
            async with self._client() as client:
                return await self.send_queued(client, store)
        finally:
            store.close()

    async def send_queued(self, client: httpx.AsyncClient, store: Store) -> bool:
        """Post the queue oldest first until it is empty (True) or the receiver fails (False)."""
        while True:
            rows = await asyncio.to_thread(_oldest, store, 20)
            if not rows:
                return True
            for row_id, samples, body in rows:
                outcome = await self._post(client, body)
                if outcome == "retry":
                    self.stats.failures += 1
                    return False
                self.stats.failures = 0
                await asyncio.to_thread(_delete, store, row_id)
                if outcome == "sent":
                    self.stats.sent_samples += samples
                    self.stats.sent_requests += 1
                else:
                    self.stats.rejected_samples += samples

    def _client(self) -> httpx.AsyncClient:
        headers = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
                   "X-Prometheus-Remote-Write-Version": "0.1.0", "User-Agent": "watchkeeper"}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        return httpx.AsyncClient(headers=headers, timeout=self.config.timeout_s, transport=self._transport)

    async def _post(self, client: httpx.AsyncClient, body: bytes) -> str:
        try:
            response = await client.post(self.config.url, content=body)
        except httpx.HTTPError as exc:
            self._failed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            return "retry"
        if response.is_success:
            if self.stats.last_error:
                log.info("remote write to %s works again", self.config.url)
                self.stats.last_error = ""
            return "sent"
        text = response.text[:300].strip()
        if response.status_code == 429 or response.status_code >= 500:
            self._failed(f"HTTP {response.status_code}: {text}")
            return "retry"
        log.error("remote write: %s refused a request for good (HTTP %d: %s); its samples are dropped",
                  self.config.url, response.status_code, text)
        return "rejected"

    def _failed(self, error: str) -> None:
        if error != self.stats.last_error:
            log.warning("remote write to %s failed (%s); the samples wait in the queue and are sent when it answers",
                        self.config.url, error)
        self.stats.last_error = error


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """True when `stop` was set within `seconds`."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
        return True
    except TimeoutError:
        return False


def _oldest(store: Store, limit: int) -> list[tuple[int, int, bytes]]:
    return [(int(r[0]), int(r[1]), bytes(r[2])) for r in store.query(
        "SELECT id, samples, body FROM remote_write_queue ORDER BY id LIMIT ?", (limit,))]


def _delete(store: Store, row_id: int) -> None:
    with store.transaction("removing a sent remote-write request") as db:
        db.execute("DELETE FROM remote_write_queue WHERE id = ?", (row_id,))
