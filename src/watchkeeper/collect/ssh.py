"""Fetch agent output over SSH, holding ONE connection per host that every cycle reuses.

An SSH login costs a few hundred milliseconds of CPU; a command on an open connection a
few. So the connection stays open, is re-opened when it drops, and after failures the next
attempt waits longer (1 s, 2 s, 4 s ... up to 5 minutes) instead of hammering the host.

Host keys are checked against Watchkeeper's own known_hosts file; an unknown or changed
key is refused, never accepted silently (`watchkeeper host trust NAME` adds one after the
user has compared its fingerprint). Only key authentication is offered.

The bundled agent is sent on stdin, so hosts need nothing installed: the Python agent to
`python3 -`, or, where `uname -s` on first contact says FreeBSD (no Python in its base system),
the POSIX sh agent to `sh -s`. The host option `os` names the system instead of asking.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from dataclasses import replace
from pathlib import Path

import asyncssh

from watchkeeper.agent import FREEBSD_AGENT, watchkeeper_agent
from watchkeeper.collect.transport import AgentOutput, elapsed_since, read_limited
from watchkeeper.errors import AgentAuthFailed, AgentFailed, AgentUnreachable, CollectError, HostKeyRejected
from watchkeeper.model.hosts import DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_S
from watchkeeper.model.plugin_runs import PluginRun

BUNDLED_AGENTS = {
    "linux": (["python3", "-"], Path(watchkeeper_agent.__file__)),
    "freebsd": (["sh", "-s"], FREEBSD_AGENT),
}
"""The command each system's bundled agent is piped to, and the agent's file."""
MAX_SESSIONS = 8
"""Sessions at once on one connection; OpenSSH allows 10 (MaxSessions) unless told otherwise."""
SESSION_RETRIES = 6
TIMED_OUT = 124
"""Exit status of coreutils `timeout` when it had to stop the command."""
MAX_BACKOFF_S = 300.0


class SshTransport:
    def __init__(self, name: str, address: str, port: int, user: str, *, known_hosts: Path,
                 client_key: Path, command: list[str] | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES, os_name: str = "") -> None:
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.known_hosts = known_hosts
        self.client_key = client_key
        self.command = command
        """The agent's argv on the host; None: a bundled agent, chosen by the host's system."""
        self.os_name = os_name
        """`linux` or `freebsd` from the host's options; empty: asked with `uname -s` on first contact."""
        self._system = os_name
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.connections_opened = 0
        self._conn: asyncssh.SSHClientConnection | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._last_error = ""
        self._sessions = asyncio.Semaphore(MAX_SESSIONS)
        self._connecting = asyncio.Lock()

    @property
    def where(self) -> str:
        return f"ssh://{self.user}@{self.address}:{self.port}"

    async def _connection(self) -> asyncssh.SSHClientConnection:
        if self._conn is not None:
            return self._conn
        async with self._connecting:  # plugins on one host start together: they share one login
            return await self._open()

    async def _open(self) -> asyncssh.SSHClientConnection:
        if self._conn is not None:
            return self._conn
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            raise AgentUnreachable(f"{self.name}: {self._last_error} (next connection attempt in {wait:.0f}s, "
                                   f"after {self._failures} failures)")
        try:
            self._conn = await asyncio.wait_for(self._connect(), self.timeout_s)
        except Exception as exc:
            error = self._translate(exc)
            self._failures += 1
            self._retry_at = time.monotonic() + min(2.0 ** (self._failures - 1), MAX_BACKOFF_S)
            self._last_error = str(error).removeprefix(f"{self.name}: ")
            raise error from exc
        self._failures = 0
        self.connections_opened += 1
        return self._conn

    async def _connect(self) -> asyncssh.SSHClientConnection:
        if not self.known_hosts.exists():
            self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            self.known_hosts.touch(mode=0o600)
        return await asyncssh.connect(
            self.address, self.port, username=self.user, known_hosts=str(self.known_hosts),
            client_keys=[str(self.client_key)], agent_path=None, password=None,
            preferred_auth="publickey", config=None, keepalive_interval=30, keepalive_count_max=3,
        )

    def _translate(self, exc: BaseException) -> Exception:
        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
            known = self._has_known_key()
            what = "has CHANGED since it was trusted" if known else "is not known"
            return HostKeyRejected(
                f"{self.name}: the SSH host key of {self.address}:{self.port} {what} "
                f"(checked against {self.known_hosts}). If the host was really "
                f"{'reinstalled' if known else 'set up'}, compare its fingerprint and run "
                f"`watchkeeper host trust {self.name}`.")
        if isinstance(exc, asyncssh.PermissionDenied):
            return AgentAuthFailed(
                f"{self.name}: {self.address}:{self.port} refused key authentication for user "
                f"{self.user!r} with {self.client_key}. Add the public key (`watchkeeper ssh-key`) to that "
                "user's ~/.ssh/authorized_keys.")
        if isinstance(exc, TimeoutError | asyncio.TimeoutError):
            return AgentUnreachable(f"{self.name}: no SSH session with {self.address}:{self.port} within "
                                    f"{self.timeout_s:g}s. Is the host up and the port open from here?")
        if isinstance(exc, OSError):
            return AgentUnreachable(f"{self.name}: cannot connect to {self.address}:{self.port}: "
                                    f"{exc.strerror or exc}. Is sshd running, and the port open from here?")
        if isinstance(exc, asyncssh.Error):
            return AgentUnreachable(f"{self.name}: SSH with {self.address}:{self.port} failed: {exc.reason}")
        return AgentFailed(f"{self.name}: SSH with {self.address}:{self.port} failed: "
                           f"{type(exc).__name__}: {exc}")

    def _has_known_key(self) -> bool:
        try:
            text = self.known_hosts.read_text()
        except OSError:
            return False
        pattern = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        return any(line.split(" ", 1)[0].split(",").count(pattern) for line in text.splitlines())

    @property
    def agent(self) -> str:
        """Which agent this host gets, in words (known after the first fetch when it is asked for)."""
        if self.command is not None:
            return f"the agent command {shlex.join(self.command)!r} installed on the host"
        if not self._system:
            return "a bundled agent chosen by the host's `uname -s` on first contact"
        argv, path = BUNDLED_AGENTS[self._system]
        how = "from the host option os" if self.os_name else "by its `uname -s`"
        return f"the bundled {path.name}, piped to `{shlex.join(argv)}` ({self._system}, {how})"

    async def _system_of(self, conn: asyncssh.SSHClientConnection) -> str:
        if not self._system:
            done = await conn.run("uname -s", check=False, timeout=self.timeout_s)
            answer = (done.stdout or "").strip() if isinstance(done.stdout, str) else ""
            if done.exit_status != 0 or not answer:
                raise AgentFailed(f"{self.name}: `uname -s` on {self.where} did not name the system "
                                  f"(status {done.exit_status}); give the host option os=linux or os=freebsd")
            self._system = "freebsd" if answer == "FreeBSD" else "linux"
        return self._system

    async def fetch(self) -> AgentOutput:
        start = asyncio.get_running_loop().time()
        conn = await self._connection()
        agent: Path | None = None
        try:
            async with asyncio.timeout(self.timeout_s):
                command = self.command
                if command is None:
                    command, agent = BUNDLED_AGENTS[await self._system_of(conn)]
                process = await conn.create_process(shlex.join(command), encoding=None)
                if agent is not None:
                    process.stdin.write(agent.read_bytes())
                process.stdin.write_eof()
                data, truncated = await read_limited(process.stdout, self.max_bytes)
                if truncated:
                    process.close()
                stderr = b"" if truncated else await process.stderr.read(4096)
                completed = await process.wait(check=False)
        except TimeoutError:
            await self._drop()  # a hung session may mean a hung connection: start afresh next time
            raise AgentUnreachable(f"{self.name}: the agent on {self.where} gave no complete output within "
                                   f"{self.timeout_s:g}s") from None
        except (asyncssh.Error, OSError) as exc:
            await self._drop()
            raise AgentUnreachable(f"{self.name}: the SSH connection to {self.where} broke: "
                                   f"{getattr(exc, 'reason', None) or exc}; it is re-opened next cycle") from exc
        status = completed.exit_status
        if status not in (0, None) and not truncated and not data.strip():
            reason = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise AgentFailed(f"{self.name}: the agent command {shlex.join(command)!r} on {self.where} "
                              f"exited with status {status}: {reason[0]}")
        return AgentOutput(data, truncated, self.max_bytes, elapsed_since(start))

    async def run_plugin(self, argv: list[str], timeout_s: float, limit: int) -> PluginRun:
        """Run a plugin on the host over the open connection: a session costs a few ms where a
        login costs hundreds. The host's own `timeout` stops the plugin's whole process group,
        so nothing is left running there; our own deadline a little later guards the session."""
        start = asyncio.get_running_loop().time()
        remote = shlex.join(["timeout", "--kill-after=1", f"{timeout_s:g}", *argv])
        try:
            async with self._sessions:
                conn = await self._connection()
                async with asyncio.timeout(timeout_s + 5.0):
                    process = await self._session(conn, remote)
                    data, truncated = await read_limited(process.stdout, limit)
                    if truncated:  # drop the rest as it comes, so the plugin finishes with its own status
                        while await process.stdout.read(65536):
                            pass
                    stderr = await process.stderr.read(4096)
                    completed = await process.wait(check=False)
                    process.close()
                    await process.wait_closed()  # the server counts a session until its channel is closed
        except CollectError as exc:
            return PluginRun(error=str(exc))
        except asyncssh.ChannelOpenError as exc:  # this session was refused; the connection is fine
            return PluginRun(error=f"{self.where} refused a new SSH session: {exc.reason} (its MaxSessions is "
                                   f"below {MAX_SESSIONS}?)")
        except TimeoutError:
            await self._drop()
            return PluginRun(timed_out=True, seconds=elapsed_since(start))
        except (asyncssh.Error, OSError) as exc:
            await self._drop()
            return PluginRun(error=f"the SSH connection to {self.where} broke: "
                                   f"{getattr(exc, 'reason', None) or exc}; it is re-opened for the next check")
        run = PluginRun(stdout=data, stderr=stderr, truncated=truncated, limit=limit, seconds=elapsed_since(start))
        if completed.exit_signal is not None:
            return PluginRun(error=f"the plugin on {self.where} was killed by signal {completed.exit_signal[0]}")
        if completed.exit_status == TIMED_OUT:
            return replace(run, timed_out=True)
        if completed.exit_status == 127 and not data:
            return PluginRun(error=f"plugin {argv[0]!r} was not found on {self.name} (or `timeout` is missing there)")
        return replace(run, exit_code=completed.exit_status)

    async def _session(self, conn: asyncssh.SSHClientConnection, command: str) -> asyncssh.SSHClientProcess[bytes]:
        """A new session; a refusal is retried briefly, because OpenSSH frees a session's slot a
        moment after its channel closes, so a full connection has room again very soon."""
        for attempt in range(SESSION_RETRIES):
            try:
                return await conn.create_process(command, encoding=None, stdin=asyncssh.DEVNULL)
            except asyncssh.ChannelOpenError:
                if attempt == SESSION_RETRIES - 1:
                    raise
                await asyncio.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    async def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._system = self.os_name  # asked again on the next connection

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            await self._conn.wait_closed()
            self._conn = None


async def fetch_host_key(address: str, port: int, timeout_s: float = 10.0) -> asyncssh.SSHKey:
    """The server's host key, for the user to compare before trusting it."""
    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(address, port), timeout_s)
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        raise AgentUnreachable(f"cannot read the SSH host key of {address}:{port}: {exc}") from exc
    if key is None:
        raise AgentUnreachable(f"{address}:{port} offered no host key")
    return key


def known_hosts_line(address: str, port: int, key: asyncssh.SSHKey) -> str:
    pattern = address if port == 22 else f"[{address}]:{port}"
    return f"{pattern} {key.export_public_key().decode().strip()}\n"
