"""Time-series databases for the remote-write tests: Debian's VictoriaMetrics and Prometheus
(with its remote-write receiver), each on a free loopback port with its data in a temporary
directory, stopped (and restarted on the same data, for outages) by the tests, killed at
teardown whatever happened."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import missing
from tests.sshd import free_port

START_TIMEOUT_S = 30.0


@dataclass
class Database:
    name: str
    command: list[str]
    base_url: str
    write_url: str
    ready_path: str
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(self.base_url + self.ready_path, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # polling a starting server's readiness, not synchronising the test
        self.stop()
        pytest.fail(f"{self.name} did not become ready in {START_TIMEOUT_S:.0f} s; its log:\n"
                    + self.log.read_text()[-2000:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def flush(self) -> None:
        """Make what was received searchable now (VictoriaMetrics buffers it for about a second)."""
        if self.name == "VictoriaMetrics":
            httpx.get(self.base_url + "/internal/force_flush", timeout=10.0).raise_for_status()

    def raw_samples(self, selector: str) -> list[tuple[int, float]]:
        """Every stored sample of the series the selector names, as (milliseconds, value)."""
        self.flush()
        answer = httpx.get(self.base_url + "/api/v1/query", timeout=10.0,
                           params={"query": f"{selector}[3650d]", "time": f"{time.time() + 60:.3f}"}).json()
        assert answer["status"] == "success", answer
        return sorted((round(float(ts) * 1000), float(value))
                      for result in answer["data"]["result"] for ts, value in result["values"])


def _database(name: str, binary: str, package: str, directory: Path) -> Database:
    path = shutil.which(binary) or f"/usr/bin/{binary}"
    if not Path(path).exists():
        missing(f"{name} ({path}, Debian package {package})")
    port = free_port()
    data = directory / "data"
    data.mkdir()
    if name == "VictoriaMetrics":
        command = [path, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={data}", "-retentionPeriod=100y",
                   "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=WARN"]
        return Database(name, command, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api/v1/write",
                        "/health", directory / "log")
    config = directory / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\n")
    command = [path, f"--config.file={config}", f"--storage.tsdb.path={data}", "--storage.tsdb.retention.time=100y",
               f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver", "--log.level=warn"]
    return Database(name, command, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api/v1/write",
                    "/-/ready", directory / "log")


@pytest.fixture(params=["VictoriaMetrics", "Prometheus"])
def tsdb(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    binary, package = {"VictoriaMetrics": ("victoria-metrics", "victoria-metrics"),
                       "Prometheus": ("prometheus", "prometheus")}[request.param]
    database = _database(request.param, binary, package, tmp_path)
    database.start()
    try:
        yield database
    finally:
        database.stop()
