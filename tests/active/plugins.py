"""Debian's monitoring-plugins, where the tests find them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import missing

PLUGIN_DIR = Path("/usr/lib/nagios/plugins")


def plugin(name: str) -> str:
    path = PLUGIN_DIR / name
    if not path.exists():
        missing(f"{path} (Debian packages monitoring-plugins-basic and -standard)")
    return str(path)
