"""`/metrics` in the Prometheus text format: the daemon's own health, and with `?services=1`
each service's state and latest metric values.

Written out directly rather than through a client library's registry: every value is read
fresh from the store or the daemon at scrape time, so there is nothing to register, and the
format for gauges and counters is a line each.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from watchkeeper.model.health import Health
from watchkeeper.store.database import Store

LATEST_WINDOW_S = 600.0
"""Service metrics newer than this are exported; an older value would be a stale gauge."""


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def _metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> Iterator[str]:
    yield f"# HELP {name} {help_text}"
    yield f"# TYPE {name} {kind}"
    for labels, value in samples:
        yield f"{name}{labels} {_value(value)}"


def _value(value: float) -> str:
    return "NaN" if value != value else repr(value)  # the text format spells it NaN


def exposition(store: Store, health: Health | None, with_services: bool) -> str:
    lines: list[str] = []
    states = {name: 0 for name in ("PENDING", "OK", "WARN", "CRIT", "UNKNOWN")}
    names = {-1: "PENDING", 0: "OK", 1: "WARN", 2: "CRIT", 3: "UNKNOWN"}
    for state, count in store.query("SELECT state, count(*) FROM services GROUP BY state"):
        states[names.get(state, "UNKNOWN")] += count
    lines += _metric("watchkeeper_services", "gauge", "Services by current state.",
                     [(f'{{state="{s}"}}', float(n)) for s, n in states.items()])
    hosts = dict(store.query("SELECT state, count(*) FROM hosts GROUP BY state"))
    lines += _metric("watchkeeper_hosts", "gauge", "Hosts by reachability.",
                     [(f'{{state="{_label(s)}"}}', float(n)) for s, n in sorted(hosts.items())])
    spool = dict(store.query("SELECT status, count(*) FROM notify_spool WHERE status != 'sent' GROUP BY status"))
    lines += _metric("watchkeeper_notifications_queued", "gauge", "Notifications not yet sent, by status.",
                     [(f'{{status="{_label(s)}"}}', float(n)) for s, n in sorted(spool.items())])
    inbox = store.query("SELECT count(*) FROM passive_inbox")[0][0]
    lines += _metric("watchkeeper_passive_inbox", "gauge", "Passive results waiting for the daemon.",
                     [("", float(inbox))])
    backlog = store.remote_write_backlog()
    lines += _metric("watchkeeper_remote_write_backlog_samples", "gauge",
                     "Samples queued for the remote-write database, not yet accepted by it.",
                     [("", float(backlog["samples"]))])
    lines += _metric("watchkeeper_remote_write_backlog_bytes", "gauge", "Bytes of the remote-write queue.",
                     [("", float(backlog["bytes"]))])
    lines += _metric("watchkeeper_remote_write_dropped_samples_total", "counter",
                     "Samples dropped because the remote-write queue passed its limit.",
                     [("", float(backlog["dropped_samples"]))])
    lines += _metric("watchkeeper_up", "gauge", "1 when this server runs inside the monitoring daemon.",
                     [("", 1.0 if health is not None else 0.0)])
    if health is not None:
        for name, kind, help_text, value in (
                ("host_cycles_total", "counter", "Host check cycles since start.", health.cycles),
                ("services_checked_total", "counter", "Service results since start.", health.services_checked),
                ("fetch_errors_total", "counter", "Agent fetches that failed since start.", health.fetch_errors),
                ("plugins_run_total", "counter", "Nagios plugins run since start.", health.plugins_run),
                ("unwritten_cycles", "gauge", "Checked cycles waiting to be stored.", health.unwritten_cycles),
                ("scheduled_hosts", "gauge", "Hosts the scheduler runs.", health.hosts),
                ("scheduled_active_checks", "gauge", "Active and passive services scheduled.", health.active_checks)):
            lines += _metric(f"watchkeeper_{name}", kind, help_text, [("", float(value))])
        # A summary as client libraries write one: quantiles over the recent checks, and the
        # count and sum of every check since start (counters, as Prometheus expects them).
        delays = list(health.start_delays)
        lines += _metric("watchkeeper_check_latency_seconds", "summary",
                         "How late checks started after they were due (quantiles over the recent checks).",
                         [(f'{{quantile="{q}"}}', _quantile(delays, q) if delays else float("nan"))
                          for q in (0.5, 0.95, 0.99)])
        lines.append(f"watchkeeper_check_latency_seconds_sum {float(health.delay_sum)!r}")
        lines.append(f"watchkeeper_check_latency_seconds_count {float(health.delay_count)!r}")
    if with_services:
        lines += _metric("watchkeeper_service_state", "gauge", "0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN, -1 PENDING.",
                         [(f'{{host="{_label(h)}",service="{_label(s)}"}}', float(state))
                          for h, s, state in store.query("SELECT host, name, state FROM services ORDER BY host, name")])
        rows = store.latest_metrics(since=time.time() - LATEST_WINDOW_S)
        lines += _metric("watchkeeper_service_metric", "gauge", "Latest value of each service metric, base units.",
                         [(f'{{host="{_label(h)}",service="{_label(s)}",metric="{_label(m)}"}}', float(v))
                          for h, s, m, v, _, _ in rows])
    return "\n".join(lines) + "\n"
