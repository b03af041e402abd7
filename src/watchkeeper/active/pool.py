"""Plugins run by a pool of helper processes (`active/helper.py`), one per core.

The daemon writes a request line and awaits the result line (the lines of one turn of the
event loop go in one write, both ways): a few microseconds of its own time per plugin,
where spawning and watching the plugin itself would keep its one thread busy for most of a
millisecond. A helper that dies fails only the plugins it was running
(UNKNOWN, with the reason), and the next request starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
from dataclasses import dataclass, field

from watchkeeper.active.helper import decode
from watchkeeper.model.plugin_runs import PluginRun

log = logging.getLogger(__name__)
HELPER_GRACE_S = 30.0
"""How long past a plugin's time limit its helper may stay silent before it counts as stuck."""
LINE_LIMIT = 64 * 1024 * 1024
"""A result line holds up to 1 MiB of output, escaped in JSON: room for the worst case."""


@dataclass(slots=True)
class Helper:
    process: asyncio.subprocess.Process
    pending: dict[int, asyncio.Future[PluginRun]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    requests: list[bytes] = field(default_factory=list)
    """Request lines of this turn of the event loop, written together at its end."""

    def send(self, line: bytes) -> None:
        if not self.requests:
            asyncio.get_running_loop().call_soon(self._write)
        self.requests.append(line)

    def _write(self) -> None:
        lines, self.requests = self.requests, []
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.write(b"".join(lines))

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and self.reader is not None and not self.reader.done()


class HelperPool:
    def __init__(self, size: int | None = None) -> None:
        self.size = size or max(1, os.cpu_count() or 1)
        self.helpers: list[Helper] = []
        self._ids = itertools.count(1)
        self._starting = asyncio.Lock()

    async def run(self, argv: list[str], timeout_s: float, limit: int) -> PluginRun:
        helper = await self._helper()
        request_id = next(self._ids)
        future: asyncio.Future[PluginRun] = asyncio.get_running_loop().create_future()
        helper.pending[request_id] = future
        helper.send(json.dumps({"id": request_id, "argv": argv, "timeout": timeout_s,
                                "limit": limit}).encode() + b"\n")
        # the helper kills at timeout_s; one timer, not wait_for's future and callbacks per plugin
        timer = asyncio.get_running_loop().call_later(timeout_s + HELPER_GRACE_S, _no_answer, helper, future)
        try:
            return await future
        finally:
            timer.cancel()
            helper.pending.pop(request_id, None)

    async def start(self) -> None:
        """Start the helpers now rather than at the first plugin."""
        await self._helper()

    async def _helper(self) -> Helper:
        live = [h for h in self.helpers if h.alive]
        if len(live) < self.size:
            async with self._starting:  # only here is the list changed, so starts never race
                self.helpers = [h for h in self.helpers if h.alive]
                while len(self.helpers) < self.size:
                    self.helpers.append(await self._start())
                live = list(self.helpers)
        return min(live, key=lambda h: len(h.pending))

    async def _start(self) -> Helper:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "watchkeeper.active.helper", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, limit=LINE_LIMIT)
        helper = Helper(process)
        helper.reader = asyncio.create_task(self._read(helper))
        return helper

    async def _read(self, helper: Helper) -> None:
        assert helper.process.stdout is not None
        try:
            while line := await helper.process.stdout.readline():
                data = json.loads(line)
                future = helper.pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(decode(data))
        except (ValueError, KeyError) as exc:
            log.error("the plugin helper sent something unreadable (%s); restarting it", exc)
            helper.process.kill()
            while await helper.process.stdout.read(1 << 16):  # asyncio reaps it only once its pipe is closed
                pass
        status = await helper.process.wait()
        for future in helper.pending.values():
            if not future.done():
                future.set_result(PluginRun(error=f"the plugin helper process ended (status {status}) while "
                                                  "the plugin ran; it runs again at its next interval"))
        helper.pending.clear()

    async def close(self) -> None:
        for helper in self.helpers:
            if helper.process.stdin is not None:
                helper.process.stdin.close()
        for helper in self.helpers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(helper.process.wait(), 10.0)
            if helper.process.returncode is None:
                helper.process.kill()
                await helper.process.wait()
            if helper.reader is not None:
                await helper.reader
        self.helpers = []


def _no_answer(helper: Helper, future: asyncio.Future[PluginRun]) -> None:
    """A helper that misses a plugin's time limit by `HELPER_GRACE_S` is stuck: it is killed (its other
    plugins fail with the reason) and the next request starts a new one."""
    if not future.done():
        future.set_result(PluginRun(error="the plugin helper gave no answer; it is restarted", timed_out=True))
        if helper.process.returncode is None:
            helper.process.kill()
