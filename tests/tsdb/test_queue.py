"""The remote-write queue and sender without a database: bounded, counted, the token sent but
never logged, a request the receiver refuses for good dropped and said, options checked."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import httpx
import pytest

from tests.labs.tsdb import Database, tsdb  # noqa: F401 (a fixture)
from tests.sshd import free_port
from tests.tsdb.test_remote_write import a_store, write
from watchkeeper.cli.commands.run import remote_write_config
from watchkeeper.errors import ConfigError
from watchkeeper.tsdb.remote_write import Outbox, RemoteWriteConfig, Sender, metric_name
from watchkeeper.web.prometheus import exposition


def test_a_full_queue_drops_its_oldest_requests_counts_them_and_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Outbox, "CHECK_SIZE_EVERY", 1)
    config = RemoteWriteConfig(url=f"http://127.0.0.1:{free_port()}/api/v1/write", site="lab",
                               max_backlog_bytes=300)
    store = a_store(tmp_path / "wk.db", config)
    write(store, time.time() - 3600, [float(i) * 1.37 for i in range(40)])
    backlog = store.remote_write_backlog()
    assert 0 < backlog["bytes"] <= 300 and backlog["dropped_samples"] > 0
    assert backlog["samples"] + backlog["dropped_samples"] == 40
    assert "passed its limit of 300 bytes" in caplog.text
    text = exposition(store, None, False)
    assert f"watchkeeper_remote_write_dropped_samples_total {float(backlog['dropped_samples'])!r}" in text
    assert f"watchkeeper_remote_write_backlog_samples {float(backlog['samples'])!r}" in text


async def test_the_token_is_sent_and_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, text="busy")

    config = RemoteWriteConfig(url="http://tsdb.invalid/api/v1/write", site="lab", token="tok-59c1-secret")
    store = a_store(tmp_path / "wk.db", config)
    write(store, time.time(), [1.0])
    sender = Sender(tmp_path / "wk.db", config, transport=httpx.MockTransport(receiver))
    assert not await sender.send_all()  # 503: kept for later
    assert seen[0].headers["authorization"] == "Bearer tok-59c1-secret"
    assert seen[0].headers["content-encoding"] == "snappy"
    assert seen[0].headers["x-prometheus-remote-write-version"] == "0.1.0"
    assert "HTTP 503: busy" in caplog.text and "tok-59c1-secret" not in caplog.text
    assert "tok-59c1-secret" not in repr(config)
    assert store.remote_write_backlog()["samples"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("tsdb", ["Prometheus"], indirect=True)
async def test_samples_the_database_refuses_for_good_are_dropped_and_said(
        tsdb: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    config = RemoteWriteConfig(url=tsdb.write_url, site="lab")
    store = a_store(tmp_path / "wk.db", config)
    sender = Sender(tmp_path / "wk.db", config)
    write(store, time.time() - 60, [1.0])
    assert await sender.send_all()
    write(store, time.time() - 30 * 86400, [2.0])  # a month old: out of bounds for Prometheus's head
    write(store, time.time() - 30, [3.0])
    assert await sender.send_all()  # the refused request does not block the ones after it
    assert sender.stats.rejected_samples == 1 and sender.stats.sent_samples == 2
    assert "refused a request for good (HTTP 400" in caplog.text
    assert store.remote_write_backlog()["requests"] == 0


@pytest.mark.parametrize(("name", "expected"), [("fs_used_bytes", "fs_used_bytes"), ("rta", "rta"),
                                                ("/ used", "__used"), ("5min", "_5min"), ("", "_"),
                                                ("temp°C", "temp_C")])
def test_metric_names_are_valid_prometheus_names(name: str, expected: str) -> None:
    assert metric_name(name) == expected


def options(**given: object) -> argparse.Namespace:
    defaults: dict[str, object] = {"remote_write": None, "remote_read": None, "remote_write_token_file": None,
                                   "remote_write_max_backlog_mib": 512.0, "site": None}
    return argparse.Namespace(**{**defaults, **given})


def test_remote_write_options_are_checked(tmp_path: Path) -> None:
    assert remote_write_config(options()) is None
    with pytest.raises(ConfigError, match="--remote-read needs --remote-write"):
        remote_write_config(options(remote_read="http://127.0.0.1:8428"))
    with pytest.raises(ConfigError, match="give the receiver's URL"):
        remote_write_config(options(remote_write="127.0.0.1:8428"))
    with pytest.raises(ConfigError, match="No such file"):
        remote_write_config(options(remote_write="http://127.0.0.1:8428/api/v1/write",
                                    remote_write_token_file=str(tmp_path / "missing")))
    (tmp_path / "token").write_text("abc\n")
    config = remote_write_config(options(remote_write="http://127.0.0.1:8428/api/v1/write", site="lab",
                                         remote_write_token_file=str(tmp_path / "token")))
    assert config is not None and config.token == "abc" and config.site == "lab"
