"""Replay a saved agent output from a file, for tests, demos and benchmarks."""

from __future__ import annotations

import time
from pathlib import Path

from watchkeeper.collect.transport import AgentOutput
from watchkeeper.errors import AgentFailed
from watchkeeper.model.hosts import DEFAULT_MAX_OUTPUT_BYTES


class FileTransport:
    def __init__(self, name: str, path: Path, *, max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES) -> None:
        self.name = name
        self.path = path
        self.max_bytes = max_bytes

    async def fetch(self) -> AgentOutput:
        start = time.perf_counter()
        try:
            with self.path.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise AgentFailed(f"{self.name}: cannot read the saved agent output {self.path}: "
                              f"{exc.strerror}") from exc
        truncated = len(data) > self.max_bytes
        return AgentOutput(data[: self.max_bytes], truncated, self.max_bytes, time.perf_counter() - start)

    async def close(self) -> None:
        return None
