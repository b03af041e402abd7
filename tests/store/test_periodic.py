"""The daemon's periodic jobs survive their own failures: a job that raises is logged and run
again next time, and `sooner` runs it early."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from watchkeeper.errors import StoreError
from watchkeeper.store.database import Store
from watchkeeper.store.periodic import run_periodically


async def test_a_job_that_fails_is_logged_and_run_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    calls: list[int] = []
    results: list[int] = []

    def job(store: Store, now: float) -> int:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("a bug in a job")
        if len(calls) == 2:
            raise StoreError("store wk.db: the disk is full")
        return len(calls)

    def done(result: int) -> None:
        results.append(result)
        stop.set()

    await asyncio.wait_for(run_periodically(tmp_path / "wk.db", stop, "test job", 3600.0, job, done,
                                            sooner=lambda store: True, look_every_s=0.001), 30)
    assert results == [3]
    assert "test job failed" in caplog.text and "RuntimeError: a bug in a job" in caplog.text
    assert "test job failed: store wk.db: the disk is full" in caplog.text
