"""Processes that leave their process group: a run's descendants are found by a token in their
environment, which they inherit (`setsid` and double forks keep it; only a program that clears
its environment sheds it), and killed.

Used by whatever starts programs that may misbehave: plugins (`active.spawn`) and local agents
(`collect.local`). Imports nothing of Watchkeeper's.
"""

from __future__ import annotations

import os
import signal

RUN_TOKEN = "WATCHKEEPER_RUN"


def kill_run(token: str, group: int) -> int:
    """SIGKILL every process whose environment carries this run's token; how many of them had
    left the run's process group (`group`, killed as a whole already).

    Reading /proc/PID/environ is allowed for our own user's processes only, which is exactly
    the set a run can have started. The process is held by a pidfd while it is read and
    signalled, so a PID reused in between is never hit."""
    marker = f"{RUN_TOKEN}={token}".encode()
    killed = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            pidfd = os.pidfd_open(int(entry.name))
        except OSError:
            continue  # gone already
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                environment = handle.read()
            if marker in environment.split(b"\0"):
                outside = _process_group(entry.name) != group
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                killed += outside
        except OSError:
            pass  # gone, or another user's
        finally:
            os.close(pidfd)
    return killed


def _process_group(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[-1].split()  # after the command, which may hold spaces
        return int(fields[2])
    except (OSError, IndexError, ValueError):
        return -1
