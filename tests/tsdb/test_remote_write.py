"""Remote write against the real receivers (Debian's VictoriaMetrics and Prometheus): what is
queried back equals what was written, an outage of the database loses nothing, graphs read
back through PromQL match the embedded store's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.labs.tsdb import Database, tsdb  # noqa: F401 (a fixture)
from watchkeeper.checkapi import Metric
from watchkeeper.model.cycles import HostCycle, Outcome, ServiceSpec
from watchkeeper.model.hosts import HostConfig
from watchkeeper.store.database import Store
from watchkeeper.tsdb.promql import PromQLSource, selector
from watchkeeper.tsdb.remote_write import Outbox, RemoteWriteConfig, Sender

pytestmark = pytest.mark.slow

SERVICE = 'Filesystem /srv/"data"\\x'  # quotes and a backslash must survive labels and PromQL
VALUES = [1048576.0, 23.5, 0.1 + 0.2, 45.0, -4.25, 100.0 * 7 / 3, 0.0, 1e-3]


def same(database: Database, got: list[tuple[int, float]], written: list[tuple[int, float]]) -> bool:
    """Prometheus keeps every float64 exactly. VictoriaMetrics keeps each block's values as
    integers with one decimal exponent, about 12 significant digits of the block's largest
    value (0.30000000000000004 comes back as 0.3, 700/3 beside 1048576 as 233.3333333333); a
    decimal as an agent prints it comes back exactly from both."""
    if database.name == "Prometheus" or got == written:
        return got == written
    scale = max(abs(value) for _, value in written)
    return [ts for ts, _ in got] == [ts for ts, _ in written] and all(
        a == b or abs(a - b) <= 1e-12 * scale for (_, a), (_, b) in zip(got, written, strict=True))


def a_store(path: Path, config: RemoteWriteConfig) -> Store:
    store = Store(path)
    store.add_host(HostConfig("web1", "local"))
    store.accept_services("web1", [ServiceSpec(SERVICE, "df", "/srv")])
    store.outbox = Outbox(config).enqueue
    return store


def write(store: Store, start: float, values: list[float]) -> list[tuple[int, float]]:
    for minute, value in enumerate(values):
        ts = start + minute * 60 + 3.25
        store.write_cycles([HostCycle("web1", ts, True, "", [Outcome(SERVICE, 0, "ok", metrics=[
            Metric("fs_used_bytes", value)])])])
    return [(round((start + minute * 60 + 3.25) * 1000), value) for minute, value in enumerate(values)]


async def test_what_is_queried_back_equals_what_was_written(tsdb: Database, tmp_path: Path) -> None:  # noqa: F811
    config = RemoteWriteConfig(url=tsdb.write_url, site="lab")
    store = a_store(tmp_path / "wk.db", config)
    written = write(store, time.time() - 3600, VALUES)
    assert store.remote_write_backlog()["samples"] == len(VALUES)
    assert await Sender(tmp_path / "wk.db", config).send_all()
    assert store.remote_write_backlog()["requests"] == 0
    got = tsdb.raw_samples(selector("web1", SERVICE, "fs_used_bytes", "lab"))
    assert same(tsdb, got, written)
    decimals = [(ts, v) for ts, v in written if v == round(v, 6)]
    assert [(ts, v) for ts, v in got if (ts, v) in decimals] == decimals  # exact in both


async def test_an_outage_of_the_database_loses_nothing(tsdb: Database, tmp_path: Path) -> None:  # noqa: F811
    config = RemoteWriteConfig(url=tsdb.write_url, site="lab")
    store = a_store(tmp_path / "wk.db", config)
    sender = Sender(tmp_path / "wk.db", config)
    start = time.time() - 3600
    written = write(store, start, [1.0, 2.0, 3.0])
    assert await sender.send_all()
    tsdb.stop()
    written += write(store, start + 180, [4.0, 5.5, 6.25, 7.0])
    assert not await sender.send_all()  # refused: it waits
    assert store.remote_write_backlog()["samples"] == 4
    assert "Connect" in sender.stats.last_error
    tsdb.start()
    assert await sender.send_all()
    assert store.remote_write_backlog() == {"requests": 0, "samples": 0, "bytes": 0, "dropped_samples": 0}
    assert same(tsdb, tsdb.raw_samples(selector("web1", SERVICE, "fs_used_bytes", "lab")), written)


async def test_graphs_read_through_promql_match_the_embedded_store(tsdb: Database, tmp_path: Path  # noqa: F811
                                                                  ) -> None:
    config = RemoteWriteConfig(url=tsdb.write_url, site="lab")
    store = a_store(tmp_path / "wk.db", config)
    start = (time.time() - 7200) // 60 * 60
    write(store, start, [float(v % 13) * 1.5 for v in range(90)])
    assert await Sender(tmp_path / "wk.db", config).send_all()
    tsdb.flush()
    source = PromQLSource(tsdb.base_url, "lab")
    try:
        read = source.points("web1", SERVICE, "fs_used_bytes", start, start + 89 * 60, 60)
    finally:
        source.close()
    local = store.metric_points("web1", SERVICE, "fs_used_bytes", start, start + 89 * 60)
    assert [(p.ts, p.avg, p.lo, p.hi) for p in read] == [(p.ts, p.avg, p.lo, p.hi) for p in local]
    assert len(read) == 90
