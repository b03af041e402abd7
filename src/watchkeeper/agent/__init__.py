"""The agents Watchkeeper sends to hosts: a Python one (Linux; `python3 -`) and a POSIX sh one (FreeBSD; `sh -s`)."""

from __future__ import annotations

from pathlib import Path

FREEBSD_AGENT = Path(__file__).with_name("watchkeeper_agent_freebsd.sh")


def freebsd_agent_source() -> bytes:
    return FREEBSD_AGENT.read_bytes()
