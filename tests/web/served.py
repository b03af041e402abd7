"""A seeded store and the real web application served by uvicorn on loopback, in a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from watchkeeper.checkapi import Metric
from watchkeeper.model.cycles import HostCycle, Outcome, ServiceSpec
from watchkeeper.model.hosts import HostConfig
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables
from watchkeeper.store.web_tables import WebTables
from watchkeeper.web.link import DaemonLink, NoDaemon
from watchkeeper.web.server import WebServer

PASSWORD = "correct horse battery"
EVIL = '<script>alert("x")</script>'


def seed(path: Path, hosts: int = 3, evil: bool = True) -> Store:
    """Hosts with a CRIT, a WARN and OK services, four hours of metrics with levels, state history."""
    store = Store(path)
    NotifyTables(store).seed_defaults()
    WebTables(store).set_user("alice", PASSWORD, "write")
    WebTables(store).set_user("viewer", PASSWORD, "read")
    now = time.time()
    names = [f"web{i}" for i in range(1, hosts + 1)]
    for name in names:
        store.add_host(HostConfig(name, "local"))
        store.accept_services(name, [ServiceSpec("Filesystem /var", "df", "/var"),
                                     ServiceSpec("Memory", "mem", ""), ServiceSpec("CPU load", "cpu_load", "")])
    cycles = []
    for minute in range(240, -1, -5):
        ts = now - minute * 60
        used = 50.0 + (240 - minute) / 240 * 45.0  # climbing towards its CRIT level
        cycles += [HostCycle(name, ts, True, "", [
            Outcome("Filesystem /var", 2 if used > 90 and name == "web1" else 0,
                    f"used {used:.1f}%" + (f" {EVIL}" if evil and name == "web1" else ""),
                    details=f"mounted from /dev/vdb {EVIL if evil else ''}",
                    metrics=[Metric("fs_used_percent", used, levels=(80.0, 90.0)),
                             Metric("fs_used_bytes", used * 1e9),
                             Metric("fs_growth_bytes_per_second", 45e9 / (4 * 3600))]),
            Outcome("Memory", 1 if name == "web2" else 0, "RAM used: 85%", metrics=[Metric("mem_used_percent", 85.0)]),
            Outcome("CPU load", 0, "load 0.5", metrics=[Metric("load1", 0.5)]),
        ]) for name in names]
    if evil:  # a discovered item may carry markup too, e.g. a mount point's name
        store.accept_services("web3", [ServiceSpec(f"Log {EVIL}", "logwatch", EVIL)])
        cycles.append(HostCycle("web3", now, True, "", [Outcome(f"Log {EVIL}", 2, f"1 CRIT line: {EVIL}")]))
    store.write_cycles(cycles)
    return store


class ServedApp:
    def __init__(self, database: Path, daemon: DaemonLink | None = None) -> None:
        self.web = WebServer(database, daemon or NoDaemon(), "127.0.0.1", 0)
        self.url = self.web.url.rstrip("/")
        self.web.server.config.timeout_graceful_shutdown = 1
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self.web.server.serve(sockets=[self.web.socket]))

    def stop(self) -> None:
        self.web.server.should_exit = True
        self.thread.join(timeout=30)
        self.web.app.state.access.close()
        self.web.socket.close()


@contextmanager
def served(database: Path, daemon: DaemonLink | None = None) -> Iterator[str]:
    """The base URL; the socket is bound before this returns, so requests wait for the server, not fail."""
    app = ServedApp(database, daemon)
    app.thread.start()
    try:
        yield app.url
    finally:
        app.stop()
