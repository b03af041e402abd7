"""Debian's monitoring-plugins, where the tests find them."""

from __future__ import annotations

import os
import select
from pathlib import Path

from tests.conftest import missing

PLUGIN_DIR = Path("/usr/lib/nagios/plugins")


def plugin(name: str) -> str:
    path = PLUGIN_DIR / name
    if not path.exists():
        missing(f"{path} (Debian packages monitoring-plugins-basic and -standard)")
    return str(path)


def dies(pid: int) -> bool:
    """True once the process has ended. A SIGKILLed process closes its files (our pipes' EOF)
    a moment before it is gone from the process table, so wait for its pidfd (bounded)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], 10.0)[0])
    finally:
        os.close(fd)
