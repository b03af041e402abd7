"""The plugin helper: a small process that starts plugins for the daemon.

The daemon sends one JSON request per line on stdin ({"id", "argv", "timeout", "limit"})
and reads one JSON result per line from stdout, in the order the plugins finish. Spawning
and watching plugins here instead of in the daemon spreads that work over the cores (the
daemon is one Python thread), and keeps it in a process whose size never grows.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import os
import select
import time
from dataclasses import dataclass
from typing import Any

from watchkeeper.active.spawn import ESCAPE_GRACE_S, PluginProcess, start_plugin
from watchkeeper.model.plugin_runs import PluginRun


def encode(request_id: int, run: PluginRun) -> bytes:
    # Output bytes travel as Latin-1 text: every byte maps to one code point and back.
    return json.dumps({"id": request_id, "stdout": run.stdout.decode("latin-1"),
                       "stderr": run.stderr.decode("latin-1"), "exit_code": run.exit_code, "signal": run.signal,
                       "timed_out": run.timed_out, "error": run.error, "truncated": run.truncated,
                       "limit": run.limit, "seconds": run.seconds, "escaped": run.escaped},
                      separators=(",", ":")).encode() + b"\n"


def decode(data: dict[str, Any]) -> PluginRun:
    return PluginRun(stdout=data["stdout"].encode("latin-1"), stderr=data["stderr"].encode("latin-1"),
                     exit_code=data["exit_code"], signal=data["signal"], timed_out=data["timed_out"],
                     error=data["error"], truncated=data["truncated"], limit=data["limit"], seconds=data["seconds"],
                     escaped=data.get("escaped", 0))


COALESCE_S = 0.005
"""How long a result may wait for the plugins still running, to go with theirs in one write:
the daemon wakes once for a batch started on one of its ticks, not once per plugin."""


@dataclass(slots=True, eq=False)  # each run is itself: kept in a set
class _Running:
    request_id: int
    process: PluginProcess
    started: float


def serve(requests: int = 0, results: int = 1) -> None:
    """Run the requests read from `requests` until it closes, writing results to `results`.

    A bare epoll loop rather than asyncio: per plugin, asyncio's readers, task, future and
    timer handles cost the helper 0.5 ms of CPU, as much as spawning the plugin; here a plugin
    is three registered descriptors and one entry in a heap of deadlines."""
    poller = select.epoll()
    os.set_blocking(requests, False)
    poller.register(requests, select.EPOLLIN)
    watched: dict[int, tuple[_Running, bool]] = {}
    """descriptor -> its run, and whether it is the pidfd (else a pipe)."""
    deadlines: list[tuple[float, int, _Running, bool]] = []
    """(when, tie-breaker, run, whether it is the escape grace) for the time limits and graces."""
    order = itertools.count()
    running: set[_Running] = set()
    partial = b""
    done: list[bytes] = []
    write_at = math.inf
    """When the results waiting in `done` are written, unless every plugin has finished before."""

    def unwatch(fd: int) -> None:
        if watched.pop(fd, None) is not None:
            poller.unregister(fd)

    def begin(request: dict[str, Any]) -> None:
        started = time.monotonic()
        process = start_plugin(request["argv"], request["limit"])
        if isinstance(process, PluginRun):
            done.append(encode(request["id"], process))
            return
        run = _Running(request["id"], process, started)
        running.add(run)
        for fd, is_pidfd in ((process.out, False), (process.err, False), (process.pidfd, True)):
            watched[fd] = (run, is_pidfd)
            poller.register(fd, select.EPOLLIN)
        heapq.heappush(deadlines, (started + request["timeout"], next(order), run, False))

    def finish(run: _Running) -> None:
        if run.process.done and run in running:
            running.discard(run)
            done.append(encode(run.request_id, run.process.result(time.monotonic() - run.started)))

    while True:
        wake = min(deadlines[0][0] if deadlines else math.inf, write_at)
        timeout = max(0.0, wake - time.monotonic()) if wake < math.inf else -1
        for fd, _ in poller.poll(timeout):
            if fd == requests:
                data, closed = _read_all(requests)
                if closed:  # the daemon closed our stdin: it is stopping and wants no more results
                    for run in list(running):
                        run.process.abandon(unwatch)
                    return
                *lines, partial = (partial + data).split(b"\n")
                for line in lines:
                    begin(json.loads(line))
                continue
            entry = watched.get(fd)
            if entry is None:
                continue  # closed earlier in this round
            run, is_pidfd = entry
            if is_pidfd:
                unwatch(fd)
                if run.process.reap():  # something outside the group still holds the pipes
                    heapq.heappush(deadlines, (time.monotonic() + ESCAPE_GRACE_S, next(order), run, True))
            else:
                run.process.read(fd, unwatch)
            finish(run)
        now = time.monotonic()
        while deadlines and deadlines[0][0] <= now:
            _, _, run, grace = heapq.heappop(deadlines)
            if run not in running:
                continue  # over already
            if grace:
                run.process.close_escaped(unwatch)
            else:
                run.process.time_out()
            finish(run)
        if done and (not running or now >= write_at):
            _write_all(results, b"".join(done))
            done.clear()
            write_at = math.inf
        elif done and write_at == math.inf:
            write_at = now + COALESCE_S


def _read_all(fd: int) -> tuple[bytes, bool]:
    """What the pipe holds now, and whether it has ended."""
    parts: list[bytes] = []
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return b"".join(parts), False
        if not chunk:
            return b"".join(parts), True
        parts.append(chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


if __name__ == "__main__":
    serve()
