"""What the command-line tests share: an initialised store without this machine in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.cli.main import main


@pytest.fixture
def home(tmp_path: Path) -> str:
    home = str(tmp_path / "home")
    assert main(["--home", home, "init", "--no-local"]) == 0
    return home
