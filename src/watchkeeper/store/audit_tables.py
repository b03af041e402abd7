"""The audit log: who changed what in the configuration, from the web UI, the API or the CLI.

An entry is written after the change it records has been committed, in its own transaction:
a change whose entry could not be written stays made, and the failure is logged.
"""

from __future__ import annotations

import getpass
import logging
import re
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass

from watchkeeper.errors import StoreError
from watchkeeper.store.database import Store

log = logging.getLogger(__name__)

DETAIL_CHARS = 2000
"""What an entry keeps of a change's detail (a comment, a host's options); the rest is cut."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    action: str
    target: str
    detail: str


_SECRET = re.compile(r"pass|secret|token|key", re.IGNORECASE)


def redacted(words: Sequence[str]) -> str:
    """A command line fit for the audit log: the values of options and KEY=VALUE pairs whose
    names speak of a password, secret, token or key are replaced."""
    shown: list[str] = []
    hide_next = False
    for word in words:
        name, sep, _ = word.partition("=")
        if hide_next:
            shown.append("***")
        elif sep and _SECRET.search(name):
            shown.append(f"{name}=***")
        else:
            shown.append(shlex.quote(word))
        hide_next = word.startswith("-") and not sep and bool(_SECRET.search(word))
    return " ".join(shown)


def cli_actor() -> str:
    """The CLI's actor: the system user who ran the command."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container's arbitrary user)
        return "cli:unknown"


class AuditTables:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, actor: str, action: str, target: str, detail: str = "") -> None:
        if len(detail) > DETAIL_CHARS:
            detail = detail[:DETAIL_CHARS] + f" ... ({len(detail) - DETAIL_CHARS} more characters)"
        try:
            with self.store.transaction("writing the audit log") as db:
                db.execute("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                           (time.time(), actor, action, target, detail))
        except StoreError as exc:
            log.error("the audit log could not record %s %s by %s: %s", action, target, actor, exc)

    def entries(self, limit: int = 200, target: str | None = None) -> list[AuditEntry]:
        """Newest first; `target`: only entries about it (a host also matches its services)."""
        where, args = "", tuple[str, ...]()
        if target:
            where, args = " WHERE target = ? OR target LIKE ? ESCAPE '\\'", (
                target, target.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%")
        rows = self.store.query(f"SELECT id, at, actor, action, target, detail FROM audit_log{where} "
                                "ORDER BY id DESC LIMIT ?", (*args, limit))
        return [AuditEntry(*row) for row in rows]
