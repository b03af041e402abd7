"""Run the agent (or any command printing agent output) as a local process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import platform
import shlex
import signal
import sys
from pathlib import Path

from watchkeeper.agent import FREEBSD_AGENT, watchkeeper_agent
from watchkeeper.collect.transport import AgentOutput, elapsed_since, read_limited
from watchkeeper.errors import AgentFailed, AgentUnreachable
from watchkeeper.escapees import RUN_TOKEN, kill_run
from watchkeeper.model.hosts import DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_S

AGENT_PATH = Path(watchkeeper_agent.__file__)


_fetches = itertools.count(1)


def default_agent_command() -> list[str]:
    """The bundled agent, run by path so that it is the same file that is copied to hosts: the
    POSIX sh one on FreeBSD (its collectors read FreeBSD's tools), the Python one elsewhere."""
    if platform.system() == "FreeBSD":
        return ["/bin/sh", str(FREEBSD_AGENT)]
    return [sys.executable, "-I", str(AGENT_PATH)]


class LocalTransport:
    def __init__(self, name: str, command: list[str] | None = None, *,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES) -> None:
        self.name = name
        self.command = command or default_agent_command()
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    async def fetch(self) -> AgentOutput:
        start = asyncio.get_running_loop().time()
        try:
            # A list of arguments, never a shell; its own session, so a timeout kills the group, and a
            # token in its environment for what it starts outside the group (see active.spawn).
            token = f"{os.getpid()}.agent.{next(_fetches)}"
            proc = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True, env={**os.environ, RUN_TOKEN: token})
        except OSError as exc:
            raise AgentFailed(f"{self.name}: cannot start the agent {self.command[0]!r}: {exc.strerror}. "
                              "Is it installed and executable?") from exc
        assert proc.stdout is not None and proc.stderr is not None
        try:
            async with asyncio.timeout(self.timeout_s):
                data, truncated = await read_limited(proc.stdout, self.max_bytes)
                if truncated:
                    # Read what is left after killing it: asyncio reaps a process only once its pipes have
                    # closed, and a reader that buffered past its limit has stopped reading from the pipe.
                    _kill_group(proc)
                    await _discard(proc.stdout)
                stderr = await proc.stderr.read(4096)
                code = await proc.wait()
        except TimeoutError:
            _kill_group(proc)
            escaped = kill_run(token, proc.pid)
            await _reap(proc)
            raise AgentUnreachable(f"{self.name}: the local agent gave no complete output within "
                                   f"{self.timeout_s:g}s and was killed"
                                   + (f" with {escaped} processes it had started outside its group" if escaped
                                      else "")
                                   + f". Run `{shlex.join(self.command)}` by hand to see where it hangs.") from None
        finally:
            if proc.returncode is None:
                _kill_group(proc)
                kill_run(token, proc.pid)
                await _reap(proc)
        if code != 0 and not truncated and not data.strip():
            reason = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise AgentFailed(f"{self.name}: the local agent exited with status {code}: {reason[0]}")
        return AgentOutput(data, truncated, self.max_bytes, elapsed_since(start))

    async def close(self) -> None:
        return None


async def _discard(stream: asyncio.StreamReader) -> None:
    """Read a killed process's output to its end, so that its pipe is closed and the process reaped."""
    while await stream.read(1 << 16):
        pass


async def _reap(proc: asyncio.subprocess.Process) -> None:
    """After a kill: close its output and wait for it, but not forever if something we could not find still
    holds the pipe open (the transport then stays open and is closed when it is collected)."""
    assert proc.stdout is not None
    with contextlib.suppress(TimeoutError, ProcessLookupError):
        async with asyncio.timeout(5):
            await _discard(proc.stdout)
            await proc.wait()


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
