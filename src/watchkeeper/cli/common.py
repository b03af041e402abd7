"""What every command shares: the store, console output, options."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.model.states import NAMES
from watchkeeper.paths import Paths
from watchkeeper.store.audit_tables import AuditTables, cli_actor, redacted
from watchkeeper.store.database import Store

log = logging.getLogger("watchkeeper")

COLOURS = {-1: "\033[36m", 0: "\033[32m", 1: "\033[33m", 2: "\033[31m", 3: "\033[35m"}
RESET = "\033[0m"


class Console:
    """Output that uses colour only on a terminal (and never with NO_COLOR set)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.colour = self.stream.isatty() and not os.environ.get("NO_COLOR")

    def state(self, state: int, stale: bool = False) -> str:
        text = NAMES.get(state, "?") + ("*" if stale else "")
        padded = f"{text:<8}"
        return f"{COLOURS.get(state, '')}{padded}{RESET}" if self.colour else padded

    def print(self, text: str = "") -> None:
        print(text, file=self.stream)


def age(since: float | None, now: float) -> str:
    return "-" if since is None else short_span(now - since)


def short_span(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


_opened: list[tuple[Store, dict[str, int]]] = []
"""The stores this command opened, with their configuration counters then: what it changed is
recorded in the audit log when it ends (`record_changes`)."""


def open_store(args: argparse.Namespace) -> Store:
    paths = Paths.resolve(args.home)
    if not paths.database.exists():
        raise ConfigError(f"no store at {paths.database}; run `watchkeeper init` first "
                          "(or point --home / WATCHKEEPER_HOME at an existing one)")
    for change in paths.secure():
        log.warning("private store: %s", change)
    store = Store(paths.database)
    _opened.append((store, store.config_counters()))
    return store


def record_changes(words: Sequence[str], action: str) -> None:
    """Every store this command opened whose configuration it changed gets an audit entry with
    the command line (secrets left out) and the tables it changed."""
    while _opened:
        store, before = _opened.pop()
        try:
            after = store.config_counters()
            changed = sorted(name for name, n in after.items() if before.get(name) != n)
            if changed:
                AuditTables(store).record(cli_actor(), action, "", f"{redacted(words)} (changed: "
                                          f"{', '.join(changed)})")
        except WatchkeeperError as exc:
            log.error("the audit log could not record `%s`: %s", action, exc)


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"option {pair!r} is not KEY=VALUE")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    match = _DURATION.fullmatch(text.strip().lower())
    if not match:
        raise ConfigError(f"duration {text!r} is not understood; write e.g. 90s, 30m, 2h, 1d or 1w")
    return float(match[1]) * _UNITS[match[2]]


def parse_label(pair: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not key:
        raise ConfigError(f"label {pair!r} is not KEY=VALUE")
    return key, value


def listen_address(text: str | None, default_port: int) -> tuple[str, int] | None:
    """`PORT`, `ADDRESS:PORT` or `[IPv6]:PORT`; loopback unless an address is given."""
    if text is None:
        return None
    address, _, port = text.rpartition(":")
    address = address.strip("[]") or "127.0.0.1"
    try:
        number = int(port) if port else default_port
    except ValueError:
        raise ConfigError(f"{text!r} is not [ADDRESS:]PORT") from None
    if not 0 <= number <= 65535:
        raise ConfigError(f"port {number} is outside 0..65535")
    return address, number


def ensure_client_key(paths: Paths) -> Path:
    """Watchkeeper's own SSH key: made once, readable only by its owner."""
    key = paths.client_key
    if not key.exists():
        import asyncssh

        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        private = asyncssh.generate_private_key("ssh-ed25519", comment=f"watchkeeper@{socket.gethostname()}")
        private.write_private_key(str(key))
        private.write_public_key(str(key) + ".pub")
        key.chmod(0o600)
    return key
