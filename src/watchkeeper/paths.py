"""Where Watchkeeper keeps its state: one directory, `--home`, `$WATCHKEEPER_HOME`, or the
XDG state directory (`~/.local/state/watchkeeper`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Paths:
    home: Path

    @classmethod
    def resolve(cls, home: str | None = None) -> Paths:
        if home:
            return cls(Path(home).expanduser())
        if os.environ.get("WATCHKEEPER_HOME"):
            return cls(Path(os.environ["WATCHKEEPER_HOME"]).expanduser())
        state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
        return cls(Path(state) / "watchkeeper")

    @property
    def database(self) -> Path:
        return self.home / "watchkeeper.db"

    @property
    def livestatus_socket(self) -> Path:
        return self.home / "live"

    @property
    def known_hosts(self) -> Path:
        return self.home / "ssh" / "known_hosts"

    @property
    def client_key(self) -> Path:
        return self.home / "ssh" / "id_ed25519"
