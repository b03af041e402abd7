"""Store connections for the web server's worker threads.

Request handlers that touch the store are plain functions, run by the ASGI framework in its
thread pool, so a slow query never stalls the daemon's event loop. SQLite connections are
not shared between threads: each worker thread opens its own on first use (WAL mode lets
them read while the daemon writes).
"""

from __future__ import annotations

import threading
from pathlib import Path

from watchkeeper.store.database import Store


class StoreAccess:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._opened: list[Store] = []
        self._lock = threading.Lock()

    def store(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = Store(self.path)
            with self._lock:
                self._opened.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            for store in self._opened:
                store.close()
            self._opened.clear()
