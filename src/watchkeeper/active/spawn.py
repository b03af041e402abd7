"""Run a plugin on this machine without forking the daemon.

`os.posix_spawn` (glibc: clone with CLONE_VFORK) costs the same ~1 ms from a 2 GB daemon as
from a small one, where fork()+exec copies the page tables (tens of ms). asyncio's subprocess
layer would add a transport, protocols and a waiter thread per child; at thousands of plugins
a second that costs more than the plugin, so the pipes and the child's pidfd are watched
directly by the event loop here.

The plugin gets its own process group; at the timeout the whole group is killed, and when
the plugin exits, whatever it left behind in its group is killed too. A descendant that left
the group (`setsid`, a daemonising helper) escapes that, and would hold the output pipes open
for ever: every run carries a token in its environment (`WATCHKEEPER_RUN`), which descendants
inherit, and processes carrying it are killed at the timeout, or when they still hold the pipes
ESCAPE_GRACE_S after the plugin exited. Then the pipes are closed and the run is over, so a
plugin can neither leak processes nor hang its caller.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
from collections.abc import Callable
from typing import Any

from watchkeeper.escapees import RUN_TOKEN, kill_run
from watchkeeper.model.plugin_runs import DEFAULT_PLUGIN_OUTPUT_BYTES, DEFAULT_PLUGIN_TIMEOUT_S, PluginRun

PLUGIN_PATH = "/usr/lib/nagios/plugins:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PLUGIN_ENV = {"PATH": PLUGIN_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
_READ_SIZE = 65536
ESCAPE_GRACE_S = 1.0
"""How long the pipes may stay open after the plugin exited before their holders are killed."""
_runs = itertools.count(1)


def resolve(program: str) -> str | None:
    if "/" in program:
        return program if os.access(program, os.X_OK) else None
    return shutil.which(program, path=PLUGIN_PATH)


class PluginProcess:
    """One started plugin: its pipes, its pidfd, what it wrote, how it ended. Whatever loop
    watches the descriptors (asyncio in `run_plugin`, the helper's own epoll loop) calls
    `read` when a pipe is readable and `reap` when the pidfd is; the methods that close a
    descriptor are given the loop's way to stop watching it first."""

    def __init__(self, pid: int, out: int, err: int, limit: int, token: str) -> None:
        self.pid = pid
        self.token = token
        self.escaped = 0
        self.limit = limit
        self.out, self.err = out, err
        self.buffers = {out: bytearray(), err: bytearray()}
        self.dropped = 0
        self.open = {out, err}
        self.status: int | None = None
        self.timed_out = False
        self.pidfd = os.pidfd_open(pid)
        for fd in (out, err):
            os.set_blocking(fd, False)

    @property
    def done(self) -> bool:
        return self.status is not None and not self.open

    def read(self, fd: int, unwatch: Callable[[int], object]) -> None:
        """Read what the pipe holds; at its end, stop watching it and close it."""
        buffer = self.buffers[fd]
        while True:
            try:
                chunk = os.read(fd, _READ_SIZE)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                unwatch(fd)
                self.close(fd)
                return
            room = (self.limit if fd == self.out else 4096) - len(buffer)
            if room > 0:
                buffer += chunk[:room]
            if len(chunk) > room and fd == self.out:
                self.dropped += len(chunk) - max(room, 0)

    def close(self, fd: int) -> None:
        os.close(fd)
        self.open.discard(fd)

    def reap(self) -> bool:
        """The plugin exited (its pidfd is readable; the caller has stopped watching it): collect
        its status and kill what it left in its group. True when something outside the group
        still holds the pipes: the caller gives it `ESCAPE_GRACE_S`, then calls `close_escaped`."""
        os.close(self.pidfd)
        _, self.status = os.waitpid(self.pid, 0)
        _kill_group(self.pid)  # what it left running would hold our pipes open
        return bool(self.open)

    def close_escaped(self, unwatch: Callable[[int], object]) -> None:
        """Kill what escaped the group, and stop waiting for the pipes it held."""
        self.escaped += kill_run(self.token, self.pid)
        for fd in list(self.open):
            unwatch(fd)
            self.close(fd)

    def kill(self) -> None:
        _kill_group(self.pid)
        self.escaped += kill_run(self.token, self.pid)

    def time_out(self) -> None:
        """The time limit passed: kill the group and its escapees; the end follows as they exit."""
        if not self.done:
            self.timed_out = True
            self.kill()

    def abandon(self, unwatch: Callable[[int], object]) -> None:
        """Give up on the plugin (its caller stops): kill it, reap it, close everything."""
        self.kill()
        for fd in list(self.open):
            unwatch(fd)
            self.close(fd)
        if self.status is None:
            unwatch(self.pidfd)
            os.close(self.pidfd)
            _, self.status = os.waitpid(self.pid, 0)

    def result(self, seconds: float) -> PluginRun:
        status = self.status or 0
        ended: dict[str, Any] = ({"timed_out": True} if self.timed_out
                                 else {"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status)
                                 else {"exit_code": os.WEXITSTATUS(status)})
        return PluginRun(stdout=bytes(self.buffers[self.out]), stderr=bytes(self.buffers[self.err]),
                         truncated=self.dropped > 0, limit=self.limit, seconds=seconds, escaped=self.escaped,
                         **ended)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone


def start_plugin(argv: list[str], limit: int, env: dict[str, str] | None = None) -> PluginProcess | PluginRun:
    """Start `argv` (argv[0] found in the plugin path) in its own process group, stdin from
    /dev/null; a `PluginRun` with the reason when it cannot start."""
    path = resolve(argv[0]) if argv else None
    if path is None:
        return PluginRun(error=f"plugin {argv[0] if argv else '(empty command)'!r} was not found or is not "
                               f"executable (searched {PLUGIN_PATH})")
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    token = f"{os.getpid()}.{next(_runs)}"
    environment = {**(env if env is not None else PLUGIN_ENV), RUN_TOKEN: token}
    try:
        pid = os.posix_spawn(path, argv, environment, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out_write, 1),
            (os.POSIX_SPAWN_DUP2, err_write, 2),
        ], setpgroup=0, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM), setsigmask=())
    except OSError as exc:
        for fd in (out_read, out_write, err_read, err_write):
            os.close(fd)
        return PluginRun(error=f"cannot start {path}: {exc.strerror or exc}")
    os.close(out_write)
    os.close(err_write)
    return PluginProcess(pid, out_read, err_read, limit, token)


async def run_plugin(argv: list[str], *, timeout_s: float = DEFAULT_PLUGIN_TIMEOUT_S,
                     limit: int = DEFAULT_PLUGIN_OUTPUT_BYTES, env: dict[str, str] | None = None) -> PluginRun:
    """Run `argv` on this event loop and collect its output; never raises for anything the plugin does."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    process = start_plugin(argv, limit, env)
    if isinstance(process, PluginRun):
        return process
    done = loop.create_future()
    grace: asyncio.TimerHandle | None = None

    def finish() -> None:
        if process.done and not done.done():
            if grace is not None:
                grace.cancel()
            done.set_result(None)

    def readable(fd: int) -> None:
        process.read(fd, loop.remove_reader)
        finish()

    def exited() -> None:
        nonlocal grace
        loop.remove_reader(process.pidfd)
        if process.reap():  # something outside the group still holds the pipes
            grace = loop.call_later(ESCAPE_GRACE_S, escaped)
        finish()

    def escaped() -> None:
        process.close_escaped(loop.remove_reader)
        finish()

    for fd in (process.out, process.err):
        loop.add_reader(fd, readable, fd)
    loop.add_reader(process.pidfd, exited)
    # One timer rather than wait_for(shield(...)): a future and two callbacks fewer per plugin.
    timer = loop.call_later(timeout_s, process.time_out)
    try:
        await done
    except BaseException:
        if grace is not None:
            grace.cancel()
        process.abandon(loop.remove_reader)
        raise
    finally:
        timer.cancel()
    return process.result(loop.time() - start)
