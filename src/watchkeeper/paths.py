"""Where Watchkeeper keeps its state: one directory, `--home`, `$WATCHKEEPER_HOME`, or the
XDG state directory (`~/.local/state/watchkeeper`).

The home holds password hashes, token digests, session secrets and webhook URLs, so it is
private: the directory 0700, every file in it 0600, whatever the umask. `secure()` tightens
what an older version or a hand-made copy left wider, and says what it changed. A group
execute bit on a directory is kept: it is how an admin lets a Livestatus client in the group
reach the socket, without letting it list or read anything.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

PRIVATE_UMASK = 0o077


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

    def secure(self) -> list[str]:
        """Tighten the home and everything below it; one line per change (nothing when all is private)."""
        changed: list[str] = []
        if not self.home.is_dir():
            return changed
        _tighten(self.home, changed)
        for root, directories, files in os.walk(self.home):
            for name in directories + files:
                _tighten(Path(root) / name, changed)
        return changed

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


def _tighten(path: Path, changed: list[str]) -> None:
    try:
        info = path.lstat()
    except OSError:
        return  # gone while we looked
    if stat.S_ISDIR(info.st_mode):
        wanted = stat.S_IMODE(info.st_mode) & ~0o066  # no read or write for group and others; x may stay
    elif stat.S_ISREG(info.st_mode):
        wanted = stat.S_IMODE(info.st_mode) & ~0o077
    else:
        return  # the Livestatus socket (0660 by design), symbolic links
    mode = stat.S_IMODE(info.st_mode)
    if mode != wanted:
        try:
            os.chmod(path, wanted)
        except OSError as exc:
            changed.append(f"{path} is mode {mode:04o} and could not be made {wanted:04o}: {exc.strerror}")
            return
        changed.append(f"{path} was mode {mode:04o}, readable by others; now {wanted:04o}")
