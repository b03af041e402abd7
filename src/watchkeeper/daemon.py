"""The daemon, assembled in one place: store, notifier, results sink, scheduler, Livestatus and
the web server, each handed what it needs, started in that order and stopped in reverse.

    store ──► notifier ──► sink (writer connection) ──► scheduler ──► livestatus, web
                  │                └──► remote-write queue ──► sender (to a TSDB, with retries)
                  └──► delivery (sends what the notifier spooled, with retries)
    inventory sync, baselines (each on a thread with its own connection: sources make, change and
    retire hosts every 30 s; learned baselines computed every hour)
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import resource
import signal
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

from watchkeeper.inventory.sync import run_syncs
from watchkeeper.livestatus.server import LivestatusServer
from watchkeeper.notify.delivery import Delivery
from watchkeeper.notify.notifier import Notifier
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.sink.passive import PassiveResults
from watchkeeper.sink.results import ResultsSink
from watchkeeper.store.active_tables import ActiveTables
from watchkeeper.store.baseline_tables import run_computations
from watchkeeper.store.database import Store
from watchkeeper.store.notify_tables import NotifyTables
from watchkeeper.tsdb.promql import PromQLSource
from watchkeeper.tsdb.remote_write import Outbox, RemoteWriteConfig, Sender
from watchkeeper.web.server import WebServer

log = logging.getLogger("watchkeeper.daemon")


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    concurrency: int = 64
    web: tuple[str, int] | None = ("127.0.0.1", 8080)
    livestatus_tcp: tuple[str, int] | None = None
    initial_password_file: Path | None = None
    remote_write: RemoteWriteConfig | None = None
    remote_read: str | None = None
    """The PromQL base URL graphs read from instead of the embedded store (with remote write)."""


def raise_open_file_limit() -> tuple[int, int]:
    """Each SSH host holds a connection (a descriptor) and each running plugin three more;
    systemd starts services with a soft limit of 1,024, which a thousand SSH hosts exhaust.
    Raise the soft limit to the hard one and say so; returns (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard or (hard == resource.RLIM_INFINITY and soft >= 1 << 20):
        return soft, soft
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        log.warning("open files stay limited to %d (the hard limit %d could not be set: %s)", soft, hard, exc)
        return soft, soft
    log.info("open files: soft limit raised from %d to %d (the hard limit), for SSH connections and plugins",
             soft, target)
    return soft, target


MAIL_PROBE_S = 5.0
MAIL_GREETING_LINES = 20


async def warn_about_unreachable_mail(tables: NotifyTables) -> list[str]:
    """At start, each mail channel's server is greeted once (its 220 read, QUIT sent, nothing
    else): one that does not answer is a warning in the log now, not a surprise at the first
    problem. Returns the warnings (for tests)."""
    warnings = []
    for channel in tables.channels().values():
        if channel.kind != "email":
            continue
        host, port = str(channel.config.get("host", "localhost")), int(channel.config.get("port", 25))
        context = None
        if channel.config.get("tls") == "tls":
            ca_file = channel.config.get("ca_file")
            context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        try:
            reason = await asyncio.wait_for(_greet_mail_server(host, port, context), MAIL_PROBE_S)
        except TimeoutError:
            reason = f"no answer within {MAIL_PROBE_S:g}s"
        if reason is not None:
            warnings.append(f"notification channel {channel.name}: the mail server {host}:{port} is not reachable "
                            f"({reason}); notifications wait in the spool and are retried")
            log.warning("%s", warnings[-1])
    return warnings


async def _greet_mail_server(host: str, port: int, context: ssl.SSLContext | None) -> str | None:
    """None when the server greets with 220 and closes after QUIT, else why not. A probe that
    only connected and hung up would leave "lost connection after CONNECT" in the server's log."""
    try:
        reader, writer = await asyncio.open_connection(host, port, ssl=context)
    except (OSError, ssl.SSLError) as exc:
        return str(exc) or repr(exc)
    try:
        greeting = b""
        for _ in range(MAIL_GREETING_LINES):  # a multi-line greeting is 220-… lines, then 220 …
            line = await reader.readline()
            greeting = greeting or line
            if not line.startswith(b"220-"):
                break
        if not greeting.startswith(b"220"):
            first = greeting.decode(errors="replace").strip()[:80]
            return f"it answered {first!r}, not a mail server's 220 greeting" if first else "it closed at once"
        writer.write(b"QUIT\r\n")
        await writer.drain()
        while await reader.read(4096):  # the server closes after its 221 (bounded by the probe's time)
            pass
        return None
    except (OSError, ValueError, ssl.SSLError) as exc:  # ValueError: a line longer than the reader's limit
        return str(exc) or repr(exc)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


GC_THRESHOLDS = (50_000, 20, 10)


def tune_garbage_collector() -> None:
    """Collect the young generation every 50,000 allocations instead of every 700.

    Each host cycle allocates thousands of short-lived objects (rows, results, parsed lines)
    and keeps few; the daemon's heap holds hundreds of thousands of long-lived ones (parsed
    sections, value stores, rollup buckets). At Python's default the young collections ran a
    thousand times a minute and promoted enough survivors to force two full collections of the
    whole heap per round of 1,000 hosts: 14-20 % of the CPU of a host cycle (`bench/engine.py`,
    docs/benchmarks.md). Memory held by garbage in cycles waits a little longer."""
    gc.set_threshold(*GC_THRESHOLDS)


async def run_daemon(store: Store, paths: Paths, options: DaemonOptions) -> Scheduler:
    """Run until SIGTERM or SIGINT; returns the stopped scheduler (for its counters)."""
    raise_open_file_limit()
    tune_garbage_collector()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    tables = NotifyTables(store)
    tables.seed_defaults()
    notifier = Notifier(tables)
    writer = Store(paths.database)
    sending = None
    if options.remote_write is not None:
        writer.outbox = Outbox(options.remote_write).enqueue
        sending = asyncio.create_task(Sender(paths.database, options.remote_write).run(stop))
        log.info("remote write: every metric sample also goes to %s (site %s), queued in the store while "
                 "it does not answer", options.remote_write.url, options.remote_write.site)
    sink = ResultsSink(writer, PassiveResults(ActiveTables(store)), notifier=notifier, clock=time.time)
    scheduler = Scheduler(store, paths, concurrency=options.concurrency, notifier=notifier, sink=sink,
                          freeze_gc=True)
    delivering = asyncio.create_task(Delivery(tables).run(stop))
    probing = asyncio.create_task(warn_about_unreachable_mail(tables))
    syncing = asyncio.create_task(run_syncs(paths.database, stop))
    baselines = asyncio.create_task(run_computations(paths.database, stop))
    livestatus = LivestatusServer(paths.database, scheduler.reschedule, scheduler.health)
    await livestatus.start(paths.livestatus_socket, options.livestatus_tcp)
    web = None
    source = None
    if options.web is not None:
        if options.remote_read is not None and options.remote_write is not None:
            source = PromQLSource(options.remote_read, options.remote_write.site, options.remote_write.token)
            log.info("graphs read from %s", options.remote_read)
        web = WebServer(paths.database, scheduler, *options.web, metric_source=source)
        web.start()
        log.info("web UI and API at %s (API described at %sapi/v1/openapi.json)", web.url, web.url)
        if options.initial_password_file is not None and options.initial_password_file.exists():
            log.info("log in as admin with the password in %s", options.initial_password_file)
    try:
        await scheduler.run(stop)
    finally:
        stop.set()
        probing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probing
        await delivering
        await syncing
        await baselines
        if sending is not None:
            await sending
        if web is not None:
            await web.close()
        if source is not None:
            source.close()
        await livestatus.close()
    return scheduler
