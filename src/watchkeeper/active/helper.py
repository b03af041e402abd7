"""The plugin helper: a small process that starts plugins for the daemon.

The daemon sends one JSON request per line on stdin ({"id", "argv", "timeout", "limit"})
and reads one JSON result per line from stdout, in the order the plugins finish. Spawning
and watching plugins here instead of in the daemon spreads that work over the cores (the
daemon is one Python thread), and keeps it in a process whose size never grows.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from watchkeeper.active.spawn import run_plugin
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


async def serve() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout.buffer
    running: set[asyncio.Task[None]] = set()
    flushing = False

    def flush() -> None:
        nonlocal flushing
        flushing = False
        out.flush()

    async def one(request: dict[str, Any]) -> None:
        nonlocal flushing
        run = await run_plugin(request["argv"], timeout_s=request["timeout"], limit=request["limit"])
        out.write(encode(request["id"], run))
        if not flushing:  # the results that finish in the same turn of the loop go in one write
            flushing = True
            loop.call_soon(flush)

    while line := await reader.readline():
        task = asyncio.create_task(one(json.loads(line)))
        running.add(task)
        task.add_done_callback(running.discard)
    # The daemon closed our stdin: it is stopping and wants no more results. Plugins still
    # running are killed with their process groups and escapees rather than waited for.
    for task in running:
        task.cancel()
    if running:
        await asyncio.wait(running)


if __name__ == "__main__":
    asyncio.run(serve())
