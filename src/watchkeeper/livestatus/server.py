"""The Livestatus endpoint: a unix socket (and TCP on loopback when asked) speaking the
Livestatus query language, so Nagios-era dashboards and scripts read Watchkeeper as they
read Nagios.

Queries are answered from a store snapshot in one worker thread with its own database
connection, so a large query never stalls the scheduler's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from watchkeeper.errors import WatchkeeperError
from watchkeeper.livestatus.answer import answer
from watchkeeper.livestatus.commands import RESCHEDULING, CommandRunner, Reschedule, reschedule
from watchkeeper.livestatus.query import Command, LivestatusError, Query, parse_request
from watchkeeper.livestatus.snapshot import ServerFigures, Snapshot
from watchkeeper.model.health import Health
from watchkeeper.store.database import Store

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1024 * 1024
IDLE_TIMEOUT_S = 300.0


class LivestatusServer:
    def __init__(self, database: Path, reschedule: Reschedule | None = None,
                 health: Callable[[], Health] | None = None) -> None:
        self.database = database
        self.reschedule = reschedule
        self.health = health
        self.connections = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="livestatus")
        self._store: Store | None = None
        self._servers: list[asyncio.Server] = []
        self.requests = 0
        self.commands = 0
        self._commanded = asyncio.Condition()

    async def start(self, socket_path: Path | None = None, tcp: tuple[str, int] | None = None) -> None:
        if socket_path is not None:
            socket_path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                socket_path.unlink()  # left by a killed daemon
            server = await asyncio.start_unix_server(self._serve, path=str(socket_path))
            os.chmod(socket_path, 0o660)  # the owner and its group, as Nagios does
            self._servers.append(server)
            log.info("Livestatus on unix socket %s", socket_path)
        if tcp is not None:
            server = await asyncio.start_server(self._serve, tcp[0], tcp[1])
            self._servers.append(server)
            log.info("Livestatus on tcp %s:%d", *server.sockets[0].getsockname()[:2])

    @property
    def tcp_port(self) -> int:
        for server in self._servers:
            for sock in server.sockets:
                if sock.family.name.startswith("AF_INET"):
                    return int(sock.getsockname()[1])
        return 0

    async def close(self) -> None:
        for server in self._servers:
            server.close()
            await server.wait_closed()
        self._executor.shutdown(wait=True)
        if self._store is not None:
            self._store.close()

    # ------------------------------------------------------------------ one connection
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                text = await self._read_request(reader)
                if text is None:
                    break
                keep = await self._handle(text, writer)
                await writer.drain()
                if not keep:
                    break
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the client went away or idled out
        except Exception:  # our own bug: this client gets no answer, the daemon goes on
            log.exception("Livestatus request failed")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _read_request(self, reader: asyncio.StreamReader) -> str | None:
        """One request: lines up to a blank line, or up to EOF (clients that shut down writing)."""
        lines: list[bytes] = []
        size = 0
        while True:
            line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT_S)
            size += len(line)
            if size > MAX_REQUEST_BYTES:
                raise ConnectionError("request too large")
            if not line or line in (b"\n", b"\r\n"):
                if not lines and line:
                    continue  # blank lines between requests
                break
            lines.append(line)
        if not lines:
            return None
        return b"".join(lines).decode("utf-8", "replace")

    async def _handle(self, text: str, writer: asyncio.StreamWriter) -> bool:
        self.requests += 1
        fixed16 = "ResponseHeader: fixed16" in text
        keepalive = "KeepAlive: on" in text
        try:
            request = parse_request(text)
            loop = asyncio.get_running_loop()
            if isinstance(request, Command):
                await self._command(request, loop)
                return request.keepalive
            # the daemon's counters are read here, on its own thread, and only for the table that shows them
            health = self.health() if self.health is not None and request.table == "status" else None
            figures = ServerFigures(self.requests, self.connections, health)
            code, body = await loop.run_in_executor(self._executor, self._answer, request, figures)
            fixed16, keepalive = request.fixed16, request.keepalive
        except LivestatusError as exc:
            code, body = exc.code, str(exc) + "\n"
        data = body.encode()
        if fixed16:
            writer.write(f"{code:03d} {len(data):>11}\n".encode())
        writer.write(data)
        return keepalive and (fixed16 or code == 200)

    def _answer(self, query: Query, figures: ServerFigures) -> tuple[int, str]:
        try:
            return answer(query, Snapshot(self._reader(), figures=figures))
        except WatchkeeperError as exc:
            raise LivestatusError(500, str(exc)) from exc

    async def _command(self, command: Command, loop: asyncio.AbstractEventLoop) -> None:
        try:
            if command.name in RESCHEDULING:  # touches the scheduler: in its own loop
                done = reschedule(command, self.reschedule)
            else:
                done = await loop.run_in_executor(self._executor, self._store_command, command)
            log.info("Livestatus command %s: %s", command.name, done)
        except (WatchkeeperError, ValueError) as exc:
            log.warning("Livestatus command %s refused: %s", command.name, exc)
        async with self._commanded:
            self.commands += 1
            self._commanded.notify_all()

    async def commands_handled(self, count: int) -> None:
        """Wait until `count` commands have been carried out or refused (they have no answer)."""
        async with self._commanded:
            await self._commanded.wait_for(lambda: self.commands >= count)

    def _store_command(self, command: Command) -> str:
        return CommandRunner(self._reader()).run(command)

    def _reader(self) -> Store:
        if self._store is None:
            self._store = Store(self.database)
        return self._store
