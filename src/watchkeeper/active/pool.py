"""Plugins run by a pool of helper processes (`active/helper.py`), one per core.

The daemon writes a request line and gets the result line back (the lines of one turn of the
event loop go in one write, both ways): a few microseconds of its own time per plugin, where
spawning and watching the plugin itself would keep its one thread busy for most of a
millisecond. The helpers' pipes are read and written straight from the event loop's
selector, and their deadlines are checked by one timer a second: asyncio's subprocess
streams, and a timer per request, cost the daemon more than the rest of an active check. A
helper that dies fails only the plugins it was running (UNKNOWN, with the reason), and the
next request starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from watchkeeper.active.helper import decode
from watchkeeper.model.plugin_runs import PluginRun

log = logging.getLogger(__name__)
HELPER_GRACE_S = 30.0
"""How long past a plugin's time limit its helper may stay silent before it counts as stuck."""
SWEEP_S = 1.0
"""How often the deadlines of the requests that wait are looked at."""
LINE_LIMIT = 64 * 1024 * 1024
"""A result line holds up to 1 MiB of output, escaped in JSON: room for the worst case."""

Done = Callable[[PluginRun], None]


@dataclass(slots=True, eq=False)
class Helper:
    process: subprocess.Popen[bytes]
    requests: int
    """Our end of its stdin, non-blocking."""
    results: int
    """Our end of its stdout, non-blocking."""
    pending: dict[int, tuple[float, Done]] = field(default_factory=dict)
    """Request id -> (when its helper counts as stuck, what to call with the result)."""
    unsent: bytearray = field(default_factory=bytearray)
    partial: bytes = b""
    alive: bool = True
    waiting_to_write: bool = False
    """Whether the loop watches `requests` for room (a full pipe)."""


class HelperPool:
    def __init__(self, size: int | None = None) -> None:
        self.size = size or max(1, os.cpu_count() or 1)
        self.helpers: list[Helper] = []
        self._ids = itertools.count(1)
        self._sweeping: asyncio.TimerHandle | None = None

    def submit(self, argv: list[str], timeout_s: float, limit: int, done: Done) -> None:
        """Run a plugin; `done` is called with its run, from the event loop, exactly once."""
        loop = asyncio.get_running_loop()
        helper = self._helper()
        request_id = next(self._ids)
        # the helper kills at timeout_s; past the grace it counts as stuck (`_sweep`)
        helper.pending[request_id] = (loop.time() + timeout_s + HELPER_GRACE_S, done)
        if not helper.unsent:
            loop.call_soon(self._write, helper)
        helper.unsent += json.dumps({"id": request_id, "argv": argv, "timeout": timeout_s, "limit": limit},
                                    separators=(",", ":")).encode() + b"\n"
        if self._sweeping is None:
            self._sweeping = loop.call_later(SWEEP_S, self._sweep)

    async def run(self, argv: list[str], timeout_s: float, limit: int) -> PluginRun:
        future: asyncio.Future[PluginRun] = asyncio.get_running_loop().create_future()

        def done(run: PluginRun) -> None:
            if not future.done():  # its caller may have been cancelled
                future.set_result(run)

        self.submit(argv, timeout_s, limit, done)
        return await future

    async def start(self) -> None:
        """Start the helpers now rather than at the first plugin."""
        self._helper()

    def _helper(self) -> Helper:
        self.helpers = [helper for helper in self.helpers if helper.alive]
        while len(self.helpers) < self.size:
            self.helpers.append(self._start())
        return min(self.helpers, key=lambda helper: len(helper.pending))

    def _start(self) -> Helper:
        process = subprocess.Popen([sys.executable, "-m", "watchkeeper.active.helper"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE)
        assert process.stdin is not None and process.stdout is not None
        helper = Helper(process, process.stdin.fileno(), process.stdout.fileno())
        os.set_blocking(helper.requests, False)
        os.set_blocking(helper.results, False)
        asyncio.get_running_loop().add_reader(helper.results, self._read, helper)
        return helper

    def _write(self, helper: Helper) -> None:
        loop = asyncio.get_running_loop()
        if not helper.alive or not helper.unsent:
            return
        try:
            written = os.write(helper.requests, helper.unsent)
        except BlockingIOError:
            written = 0
        except OSError:  # it died: its end of the results pipe tells `_read`
            written = len(helper.unsent)
        del helper.unsent[:written]
        if bool(helper.unsent) != helper.waiting_to_write:  # the pipe is full: go on when it drains
            helper.waiting_to_write = bool(helper.unsent)
            if helper.waiting_to_write:
                loop.add_writer(helper.requests, self._write, helper)
            else:
                loop.remove_writer(helper.requests)

    def _read(self, helper: Helper) -> None:
        chunks = []
        ended = False
        while True:
            try:
                chunk = os.read(helper.results, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                ended = True
                break
            chunks.append(chunk)
        lines = (helper.partial + b"".join(chunks)).split(b"\n")
        helper.partial = lines.pop()
        try:
            for line in lines:
                data = json.loads(line)
                entry = helper.pending.pop(data["id"], None)
                if entry is not None:
                    entry[1](decode(data))
        except (ValueError, KeyError) as exc:
            log.error("the plugin helper sent something unreadable (%s); restarting it", exc)
            ended = True
        if ended or len(helper.partial) > LINE_LIMIT:
            self._lost(helper)

    def _lost(self, helper: Helper) -> None:
        """The helper ended, or is killed because it cannot be trusted: its plugins fail with the reason."""
        loop = asyncio.get_running_loop()
        helper.alive = False
        loop.remove_reader(helper.results)
        if helper.waiting_to_write:
            loop.remove_writer(helper.requests)
            helper.waiting_to_write = False
        if helper.process.poll() is None:
            helper.process.kill()
        status = helper.process.wait()
        for process_pipe in (helper.process.stdin, helper.process.stdout):
            if process_pipe is not None:
                with contextlib.suppress(OSError):
                    process_pipe.close()
        pending, helper.pending = helper.pending, {}
        for _, done in pending.values():
            done(PluginRun(error=f"the plugin helper process ended (status {status}) while the plugin ran; "
                                 "it runs again at its next interval"))

    def _sweep(self) -> None:
        """A helper that misses a plugin's time limit by `HELPER_GRACE_S` is stuck: it is killed (its other
        plugins fail with the reason) and the next request starts a new one."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        for helper in self.helpers:
            late = [request_id for request_id, (deadline, _) in helper.pending.items() if deadline < now]
            for request_id in late:
                _, done = helper.pending.pop(request_id)
                done(PluginRun(error="the plugin helper gave no answer; it is restarted", timed_out=True))
            if late and helper.alive:
                self._lost(helper)
        waiting = any(helper.pending for helper in self.helpers)
        self._sweeping = loop.call_later(SWEEP_S, self._sweep) if waiting else None

    async def close(self) -> None:
        """Close the helpers' requests (each kills what it still runs and exits), wait for them."""
        if self._sweeping is not None:
            self._sweeping.cancel()
            self._sweeping = None
        loop = asyncio.get_running_loop()
        for helper in self.helpers:
            if helper.alive:
                if helper.waiting_to_write:
                    loop.remove_writer(helper.requests)
                    helper.waiting_to_write = False
                helper.unsent.clear()
                if helper.process.stdin is not None:
                    helper.process.stdin.close()
        for helper in self.helpers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                await loop.run_in_executor(None, helper.process.wait, 10.0)
            if helper.alive:
                self._lost(helper)
        self.helpers = []
