"""The store's home is private whatever the umask: a 0700 directory and 0600 files (the database
with its WAL, the SSH key, the initial password, plugin state), and a home left readable by an
older version is tightened at start, with a line saying what changed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def wk(home: Path, *args: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    def set_umask() -> None:
        os.umask(umask)
    return subprocess.run([sys.executable, "-m", "watchkeeper.cli.main", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120, cwd=REPO, preexec_fn=set_umask)


def modes(home: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(home.stat().st_mode)}
    for path in home.rglob("*"):
        if not path.is_socket() and not path.is_symlink():
            found[str(path.relative_to(home))] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_init_under_umask_022_makes_everything_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = wk(home, "init", "--no-local")
    assert done.returncode == 0, done.stderr
    assert wk(home, "host", "add", "web1", "file:///dev/null").returncode == 0
    found = modes(home)
    assert {"watchkeeper.db", "initial-password", "ssh/id_ed25519"} <= set(found)
    assert all(mode == 0o700 for name, mode in found.items() if (home / name).is_dir()), found
    assert all(mode == 0o600 for name, mode in found.items() if (home / name).is_file()), found


def test_a_home_left_readable_is_tightened_at_start_and_says_so(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert wk(home, "init", "--no-local").returncode == 0
    (home / "watchkeeper.db").chmod(0o644)
    home.chmod(0o755)
    (home / "ssh").chmod(0o750)
    done = wk(home, "status")
    assert done.returncode == 0, done.stderr
    assert f"{home / 'watchkeeper.db'} was mode 0644, readable by others; now 0600" in done.stderr
    assert f"{home} was mode 0755, readable by others; now 0711" in done.stderr
    found = modes(home)
    assert found["."] == 0o711 and found["ssh"] == 0o710 and found["watchkeeper.db"] == 0o600
    again = wk(home, "status")
    assert "readable by others" not in again.stderr  # nothing left to say
