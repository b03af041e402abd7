"""The web server inside the daemon: uvicorn on the daemon's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from watchkeeper.errors import ConfigError
from watchkeeper.web.app import create_app
from watchkeeper.web.link import DaemonLink
from watchkeeper.web.views import MetricSource

log = logging.getLogger("watchkeeper.web")


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the daemon owns SIGTERM and SIGINT and stops the server itself


def listening_socket(address: str, port: int) -> socket.socket:
    """Bound here, not by uvicorn, so that a port in use is a clear error before anything starts."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    # IPPROTO_TCP said outright: asyncio turns Nagle off (TCP_NODELAY) only on sockets that name
    # their protocol, and with Nagle on, every answer on a kept-alive connection waited 40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"the web UI cannot listen on {address}:{port}: {exc.strerror}; "
                          "choose another with --listen ADDRESS:PORT (or --listen off)") from None
    sock.listen(512)
    sock.setblocking(False)
    return sock


class WebServer:
    def __init__(self, database: Path, daemon: DaemonLink, address: str, port: int,
                 metric_source: MetricSource | None = None) -> None:
        self.app = create_app(database, daemon, metric_source)
        self.socket = listening_socket(address, port)
        host, bound_port = self.socket.getsockname()[:2]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{bound_port}/"
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=5)
        self.server = _EmbeddedServer(config)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(sockets=[self.socket]))

    async def close(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task
        self.app.state.access.close()
        self.socket.close()
