"""Fetch agent output over TCP, optionally TLS: connect, read to EOF, close."""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from watchkeeper.collect.transport import AgentOutput, elapsed_since, read_limited
from watchkeeper.errors import AgentFailed, AgentUnreachable
from watchkeeper.model.hosts import DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_S


class TcpTransport:
    def __init__(self, name: str, address: str, port: int, *, tls: ssl.SSLContext | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES) -> None:
        self.name = name
        self.address = address
        self.port = port
        self.tls = tls
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    async def fetch(self) -> AgentOutput:
        start = asyncio.get_running_loop().time()
        where = f"{self.address}:{self.port}"
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(self.timeout_s):
                reader, writer = await asyncio.open_connection(self.address, self.port, ssl=self.tls)
                data, truncated = await read_limited(reader, self.max_bytes)
        except TimeoutError:
            raise AgentUnreachable(f"{self.name}: no complete agent output from {where} within "
                                   f"{self.timeout_s:g}s. Is the agent running, and is the port open "
                                   "from this server?") from None
        except ssl.SSLError as exc:
            raise AgentFailed(f"{self.name}: TLS with {where} failed ({exc.reason or exc}). Does the agent "
                              "serve TLS with a certificate this server trusts?") from exc
        except OSError as exc:
            raise AgentUnreachable(f"{self.name}: cannot connect to the agent at {where}: "
                                   f"{exc.strerror or exc}. Is the agent running, and is the port open "
                                   "from this server?") from exc
        finally:
            if writer is not None:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()
        if not data:
            raise AgentFailed(f"{self.name}: the agent at {where} closed the connection without output")
        return AgentOutput(data, truncated, self.max_bytes, elapsed_since(start))

    async def close(self) -> None:
        return None
