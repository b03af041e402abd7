"""Remote-write benchmark: queueing and sending samples to VictoriaMetrics and Prometheus. Prints JSON.

    python bench/remote_write.py --series 10000 --minutes 30

For each receiver (Debian's victoria-metrics and prometheus, started on loopback with their
data in a temporary directory, side by side in the same run): `minutes` batches of one sample
per series are written through the store's real write path with remote write on (the queue is
filled in each batch's transaction), then the sender posts the whole queue. Figures: the
write path's thread CPU per 1,000 samples with and without remote write (the cost of encoding
and queueing), and the sender's samples per second and CPU per 1,000 samples sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from watchkeeper.model.cycles import HostCycle, Outcome, ServiceSpec
from watchkeeper.model.hosts import HostConfig
from watchkeeper.model.verdicts import Metric
from watchkeeper.store.database import Store
from watchkeeper.tsdb.remote_write import Outbox, RemoteWriteConfig, Sender

SERVICES_PER_HOST = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(name: str, directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    (directory / "data").mkdir(parents=True)
    if name == "victoria-metrics":
        command = [shutil.which(name) or f"/usr/bin/{name}", f"-httpListenAddr=127.0.0.1:{port}",
                   f"-storageDataPath={directory / 'data'}", "-retentionPeriod=100y", "-loggerLevel=ERROR"]
        ready = "/health"
    else:
        (directory / "prometheus.yml").write_text("global: {}\n")
        command = [shutil.which(name) or f"/usr/bin/{name}", f"--config.file={directory / 'prometheus.yml'}",
                   f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                   "--web.enable-remote-write-receiver", "--log.level=error"]
        ready = "/-/ready"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready}", timeout=1).status_code == 200:
                return process, f"http://127.0.0.1:{port}"
        except httpx.HTTPError:
            time.sleep(0.1)  # waiting for a starting server, bounded
    process.kill()
    raise SystemExit(f"{name} did not start")


def fill(store: Store, hosts: int, minutes: int, start_ts: float) -> float:
    """Write `minutes` batches; returns the write path's thread CPU seconds."""
    cpu = 0.0
    for minute in range(minutes):
        ts = start_ts + minute * 60
        cycles = [HostCycle(f"host{h:04d}", ts + h * 0.001, True, "", [
            Outcome(f"Filesystem /srv/{s:02d}", 0, "ok", metrics=[Metric("fs_used_bytes", float(10**9 + minute * s))])
            for s in range(SERVICES_PER_HOST)]) for h in range(hosts)]
        began = time.thread_time()
        store.write_cycles(cycles)
        cpu += time.thread_time() - began
    return cpu


def prepared(path: Path, hosts: int) -> Store:
    store = Store(path)
    for h in range(hosts):
        store.add_host(HostConfig(f"host{h:04d}", "local"))
        store.accept_services(f"host{h:04d}", [ServiceSpec(f"Filesystem /srv/{s:02d}", "df", f"/srv/{s:02d}")
                                               for s in range(SERVICES_PER_HOST)])
    return store


def run(name: str, home: Path, hosts: int, minutes: int) -> dict[str, float]:
    process, base = start(name, home / name)
    try:
        config = RemoteWriteConfig(url=f"{base}/api/v1/write", site="bench")
        store = prepared(home / f"{name}.db", hosts)
        store.outbox = Outbox(config).enqueue
        samples = hosts * SERVICES_PER_HOST * minutes
        write_cpu = fill(store, hosts, minutes, time.time() - minutes * 60)
        queued = store.remote_write_backlog()
        sender = Sender(home / f"{name}.db", config)
        began_wall, began_cpu = time.perf_counter(), time.process_time()
        emptied = asyncio.run(sender.send_all())
        wall, cpu = time.perf_counter() - began_wall, time.process_time() - began_cpu
        return {"samples": samples, "queued_bytes_per_sample": round(queued["bytes"] / samples, 2),
                "write_cpu_seconds_per_1000_samples_with_remote_write": round(1000 * write_cpu / samples, 4),
                "sent_all": emptied, "requests": sender.stats.sent_requests,
                "send_samples_per_second": round(sender.stats.sent_samples / wall),
                "send_cpu_seconds_per_1000_samples": round(1000 * cpu / samples, 4)}
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=10_000, help="series (20 per host)")
    parser.add_argument("--minutes", type=int, default=30, help="batches of one sample per series")
    args = parser.parse_args()
    hosts = max(1, args.series // SERVICES_PER_HOST)
    result: dict[str, object] = {"benchmark": "remote_write", "python": sys.version.split()[0],
                                 "series": hosts * SERVICES_PER_HOST, "minutes": args.minutes}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = prepared(home / "plain.db", hosts)
        samples = hosts * SERVICES_PER_HOST * args.minutes
        result["write_cpu_seconds_per_1000_samples_without_remote_write"] = round(
            1000 * fill(store, hosts, args.minutes, time.time() - args.minutes * 60) / samples, 4)
        for name in ("victoria-metrics", "prometheus"):
            result[name] = run(name, home, hosts, args.minutes)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
