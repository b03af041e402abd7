"""A store with one host and one accepted service, for the store's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.model.cycles import ServiceSpec
from watchkeeper.model.hosts import HostConfig
from watchkeeper.store.database import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "wk.db")
    store.add_host(HostConfig("web1", "local"))
    store.accept_services("web1", [ServiceSpec("Memory", "mem", "")])
    return store
