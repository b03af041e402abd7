"""Walking a table's columns with GETBULK, driven from the socket's reader callback.

gufo-snmp's own `getbulk()` iterator wakes a coroutine for every value and registers the socket
with the event loop for every reply. Over 200 simulated switches that machinery was most of the
poller's CPU (docs/benchmarks.md), more than Net-SNMP's `snmpbulkwalk` spends in C for the same
tables. Here a reply is read in the reader callback, which sends the next request at once; the
awaiting coroutine wakes once per table, and one watchdog timer per table replaces a timer per
request. The BER coding and the walk's position stay gufo-snmp's (`GetIter`, the socket).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from gufo.snmp._fast import GetIter

Column = list[tuple[str, object]]
"""(index below the column's OID, value), in the agent's order."""


async def walk_columns(sock: Any, oids: Sequence[str], *, max_repetitions: int, request_timeout_s: float,
                       retries: int, max_rows: int) -> list[Column]:
    """Each column of `oids` in turn. A request without a reply within `request_timeout_s` is
    sent again, `retries` times, before the walk fails with `TimeoutError`; a column longer than
    `max_rows` is an agent in a loop (`ValueError`)."""
    walk = _TableWalk(asyncio.get_running_loop(), sock, oids, max_repetitions, request_timeout_s, retries, max_rows)
    walk.start()
    try:
        return await walk.done
    finally:
        walk.stop()  # also when the fetch's own time limit cancels us


class _TableWalk:
    def __init__(self, loop: asyncio.AbstractEventLoop, sock: Any, oids: Sequence[str], max_repetitions: int,
                 request_timeout_s: float, retries: int, max_rows: int) -> None:
        self.loop, self.sock, self.oids = loop, sock, list(oids)
        self.max_repetitions, self.request_timeout_s = max_repetitions, request_timeout_s
        self.retries, self.max_rows = retries, max_rows
        self.done: asyncio.Future[list[Column]] = loop.create_future()
        self.columns: list[Column] = []
        self.fd = sock.get_fd()
        self.watchdog: asyncio.TimerHandle | None = None
        self.sent_at = 0.0
        self.attempts = 0
        self._begin_column()

    def start(self) -> None:
        self.loop.add_reader(self.fd, self._readable)
        self._send()
        self.watchdog = self.loop.call_later(self.request_timeout_s, self._watch)

    def stop(self) -> None:
        self.loop.remove_reader(self.fd)
        if self.watchdog is not None:
            self.watchdog.cancel()

    def _begin_column(self) -> None:
        oid = self.oids[len(self.columns)]
        self.walk = GetIter(oid, self.max_repetitions)  # keeps the position; ends the walk at the column's end
        self.prefix, self.cut = oid + ".", len(oid) + 1
        self.found: Column = []

    def _send(self) -> None:
        self.attempts += 1
        self.sent_at = self.loop.time()
        try:
            self.sock.send_get_bulk(self.walk)
        except BlockingIOError:
            pass  # the send buffer is full: the watchdog asks again, as for a lost datagram
        except Exception as exc:  # noqa: BLE001 - the awaiting coroutine raises it
            self._finish(exc)

    def _readable(self) -> None:
        try:
            reply = self.sock.recv_get_bulk(self.walk)
        except BlockingIOError:
            return  # woken, but not by a whole reply (or a late one to a request asked again)
        except StopAsyncIteration:  # gufo-snmp's word for the end of the agent's MIB view
            reply = []
        except Exception as exc:  # noqa: BLE001 - the awaiting coroutine raises it
            self._finish(exc)
            return
        found, prefix, cut = self.found, self.prefix, self.cut
        ended = not reply
        for item in reply:
            if item is None or not item[0].startswith(prefix):
                ended = True
                break
            found.append((item[0][cut:], item[1]))
        self.attempts = 0
        if ended:
            self.columns.append(found)
            if len(self.columns) == len(self.oids):
                self._finish(None)
                return
            self._begin_column()
        elif len(found) > self.max_rows:
            self._finish(ValueError(f"{self.prefix[:-1]} goes on beyond {self.max_rows} rows; the agent loops"))
            return
        self._send()

    def _watch(self) -> None:
        if self.done.done():
            return
        waited = self.loop.time() - self.sent_at
        if waited < self.request_timeout_s:  # a reply came since: look again when the current request is due
            self.watchdog = self.loop.call_later(self.request_timeout_s - waited, self._watch)
            return
        if self.attempts > self.retries:
            self._finish(TimeoutError())
            return
        self._send()  # the same request again: the walk's position only moves on a reply
        self.watchdog = self.loop.call_later(self.request_timeout_s, self._watch)

    def _finish(self, error: BaseException | None) -> None:
        if self.done.done():
            return
        self.stop()
        if error is None:
            self.done.set_result(self.columns)
        else:
            self.done.set_exception(error)
