"""A job the daemon runs every so often on a thread of its own, with its own connection to the
store (inventory syncs, baseline computations): the event loop never waits for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from watchkeeper.errors import ConfigError, StoreError
from watchkeeper.store.database import Store

log = logging.getLogger(__name__)

T = TypeVar("T")


async def run_periodically(database: Path, stop: asyncio.Event, name: str, every_s: float,
                           job: Callable[[Store, float], T], done: Callable[[T], None],
                           sooner: Callable[[Store], bool] | None = None, look_every_s: float = 30.0) -> None:
    """Run `job(store, now)` now and every `every_s` until `stop`, handing each result to `done`
    (on the loop). `sooner(store)`, asked every `look_every_s` on the thread, runs it early
    (a rule changed). A job that fails (a store that cannot be written, our own bug) is logged
    and tried again next time: the daemon goes on."""
    loop = asyncio.get_running_loop()
    store = Store(database)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=name) as thread:
            while not stop.is_set():
                try:
                    done(await loop.run_in_executor(thread, job, store, time.time()))
                except (StoreError, ConfigError) as exc:
                    log.error("%s failed: %s", name, exc)
                except Exception:  # our bug: logged with its traceback, and tried again next time
                    log.exception("%s failed", name)
                waited = 0.0
                while not stop.is_set() and waited < every_s:
                    step = min(look_every_s, every_s - waited)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), step)
                    waited += step
                    if sooner is not None and not stop.is_set() and await loop.run_in_executor(thread, sooner, store):
                        break
    finally:
        store.close()
