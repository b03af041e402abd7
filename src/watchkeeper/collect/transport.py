"""The one seam between Watchkeeper and a host: `AgentTransport.fetch()` returns the agent's
raw output or raises a `CollectError`. Every fetch has a time limit and a size limit; output
beyond the size limit is cut there, and the cut is reported rather than hidden."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from watchkeeper.model.hosts import DEFAULT_MAX_OUTPUT_BYTES


@dataclass(frozen=True, slots=True)
class AgentOutput:
    data: bytes
    truncated: bool = False
    """The agent printed more than the limit; `data` holds the first `limit` bytes."""
    limit: int = DEFAULT_MAX_OUTPUT_BYTES
    seconds: float = 0.0


class AgentTransport(Protocol):
    async def fetch(self) -> AgentOutput: ...

    async def close(self) -> None: ...


class ByteReader(Protocol):
    async def read(self, n: int = -1) -> bytes: ...


async def read_limited(reader: ByteReader, limit: int) -> tuple[bytes, bool]:
    """Read to EOF, but no more than `limit` bytes; True when more was on offer."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await reader.read(min(65536, limit + 1 - size))
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True


def elapsed_since(start: float) -> float:
    return asyncio.get_running_loop().time() - start
