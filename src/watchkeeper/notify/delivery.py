"""The delivery loop: pending messages from the spool to their channels, with retries.

A message is marked `sending` (committed) before its channel is called and `sent` after. A
crash in between leaves it `sending`; at the next start it is sent again with the same key,
so at most that one message can arrive twice, and the receiver can tell (Message-ID,
Idempotency-Key). Failures retry with back-off (30 s doubling to an hour) for a day, then
the message is `failed`; every attempt's error is in `watchkeeper notify log`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from watchkeeper.errors import StoreError
from watchkeeper.model.notifications import Channel, Contact
from watchkeeper.notify.channels import DeliveryError, send
from watchkeeper.store.notify_tables import NotifyTables, SpoolRow

log = logging.getLogger(__name__)

DELIVERY_INTERVAL_S = 5.0
GIVE_UP_S = 86400.0
FIRST_RETRY_S = 30.0
MAX_RETRY_S = 3600.0

Sender = Callable[[Channel, Contact, str, dict[str, Any]], None]


class Delivery:
    def __init__(self, tables: NotifyTables, *, clock: Callable[[], float] = time.time, sender: Sender = send) -> None:
        self.tables = tables
        self.clock = clock
        self.sender = sender
        self.sent = 0
        self.failures = 0
        self._recovered = False

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver what is due every few seconds until `stop`; a failure pauses, never ends, it."""
        while not stop.is_set():
            try:
                await self.deliver_due()
            except StoreError as exc:
                log.error("notification delivery paused: %s", exc)
            except Exception:  # our own bug: log it, keep delivering
                log.exception("the delivery loop failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=DELIVERY_INTERVAL_S)

    async def deliver_due(self) -> int:
        """Send every message that is due; return how many were sent."""
        statuses = ["pending", "sending"] if not self._recovered else ["pending"]
        self._recovered = True  # `sending` rows only exist at start, left by a crash
        rows = self.tables.spool(statuses, due_before=self.clock())
        channels, contacts = self.tables.channels(), self.tables.contacts()
        done = 0
        for row in rows:
            if row.status == "sending":
                log.warning("message %s to %s was being sent when the daemon stopped; sending it again with "
                            "the same key", row.key, row.contact)
            done += await self._deliver(row, channels, contacts)
        return done

    async def _deliver(self, row: SpoolRow, channels: dict[str, Channel], contacts: dict[str, Contact]) -> int:
        channel, contact = channels.get(row.channel), contacts.get(row.contact)
        if channel is None or contact is None:
            self._failed(row, f"{'channel ' + row.channel if channel is None else 'contact ' + row.contact} "
                              "no longer exists")
            return 0
        self.tables.mark(row.id, "sending", attempt=True)
        try:
            await asyncio.to_thread(self.sender, channel, contact, row.key, row.body)
        except DeliveryError as exc:
            self._failed(row, str(exc))
            return 0
        except Exception as exc:  # our own bug: record it on the message, keep the loop alive
            log.exception("delivering %s failed", row.key)
            self._failed(row, f"internal error: {type(exc).__name__}: {exc}")
            return 0
        self.tables.mark(row.id, "sent", sent=self.clock())
        self.sent += 1
        log.info("sent %r to %s via %s", row.body.get("subject", ""), row.contact, row.channel)
        return 1

    def _failed(self, row: SpoolRow, error: str) -> None:
        self.failures += 1
        now = self.clock()
        if now - row.created >= GIVE_UP_S:
            self.tables.mark(row.id, "failed", error=error)
            log.error("giving up on message %s to %s via %s after %d attempts: %s", row.key, row.contact,
                      row.channel, row.attempts + 1, error)
            return
        delay = min(FIRST_RETRY_S * 2 ** row.attempts, MAX_RETRY_S)
        self.tables.mark(row.id, "pending", due=now + delay, error=error)
        log.warning("message to %s via %s failed (attempt %d), retrying in %d s: %s", row.contact, row.channel,
                    row.attempts + 1, delay, error)
