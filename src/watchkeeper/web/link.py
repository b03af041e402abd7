"""What the web application may ask of the daemon that serves it.

The web package never fetches or checks anything itself; a process without a daemon (a
benchmark, a test, a read-only UI) passes `NoDaemon`, and those calls answer 503.
"""

from __future__ import annotations

from typing import Protocol

from watchkeeper.model.cycles import ServiceSpec
from watchkeeper.model.health import Health


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
