"""What the web application may ask of the daemon that serves it.

The web package never fetches or checks anything itself; a process without a daemon (a
benchmark, a test, a read-only UI) passes `NoDaemon`, and those calls answer 503.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from watchkeeper.engine.model import ServiceSpec


@dataclass(frozen=True, slots=True)
class Health:
    hosts: int
    active_checks: int
    cycles: int
    services_checked: int
    fetch_errors: int
    plugins_run: int
    unwritten_cycles: int
    """Cycles checked but not yet in the store (grows while the store cannot be written)."""
    start_delays: tuple[float, ...]
    """Recent delays between when checks were due and when they started, in seconds."""


class DaemonLink(Protocol):
    def reschedule(self, host: str, service: str | None, when: float) -> bool: ...

    async def discover(self, host: str) -> list[ServiceSpec]: ...

    def health(self) -> Health | None: ...


class DaemonUnavailable(Exception):
    """The application runs without a daemon; the caller answers 503."""


class NoDaemon:
    def reschedule(self, host: str, service: str | None, when: float) -> bool:
        raise DaemonUnavailable("checking now needs the daemon: this web server runs without one")

    async def discover(self, host: str) -> list[ServiceSpec]:
        raise DaemonUnavailable("discovery needs the daemon: this web server runs without one; "
                                "use `watchkeeper discover HOST`")

    def health(self) -> Health | None:
        return None
