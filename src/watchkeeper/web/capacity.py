"""The capacity page's data: free capacity instead of usage, from what the capacity services
last said (hypervisors, OpenNebula hosts, clusters and datastores): how many more VMs fit,
and when the trend says there is no room left.

Hypervisors that carry a `cluster` label (or `opennebula_cluster`, as inventory sources set
it) are added up per cluster: the VMs that still fit on each, and the soonest time until full.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from watchkeeper.store.database import Store

SERVICES = ("hypervisor", "opennebula_capacity", "opennebula_cluster", "opennebula_host", "opennebula_datastore")
CLUSTER_LABELS = ("cluster", "opennebula_cluster")


@dataclass(slots=True)
class Row:
    host: str
    service: str
    kind: str
    state: int
    summary: str
    fits: float | None = None
    until_full_s: float | None = None
    used_percent: float | None = None
    cluster: str = ""


@dataclass(slots=True)
class ClusterRow:
    name: str
    hypervisors: list[str] = field(default_factory=list)
    fits: float = 0.0
    counted: int = 0
    """Hypervisors that said how many fit."""
    until_full_s: float | None = None
    state: int = 0


@dataclass(slots=True)
class Capacity:
    clusters: list[ClusterRow]
    """Hypervisors added up by their cluster label."""
    opennebula: list[Row]
    """The OpenNebula clouds' and clusters' own capacity services."""
    hosts: list[Row]
    datastores: list[Row]


def capacity(store: Store) -> Capacity:
    marks = ", ".join("?" for _ in SERVICES)
    rows = {(host, name): Row(host, name, plugin, int(state), summary) for host, name, plugin, state, summary in
            store.query(f"SELECT host, name, plugin, state, summary FROM services WHERE plugin IN ({marks}) "
                        "ORDER BY host, name", SERVICES)}
    for host, service, metric, value in store.query(
            "SELECT s.host, s.service, s.metric, h.last_value FROM metric_series s JOIN metric_heads h "
            "ON h.series = s.id AND h.tier = 0 WHERE s.metric LIKE '%vms_fit' OR s.metric LIKE "
            "'%time_until_full_seconds' OR s.metric = 'opennebula_ds_used_percent'"):
        row = rows.get((host, service))
        if row is None or value is None or not math.isfinite(value):
            continue
        if metric.endswith("vms_fit"):
            row.fits = value
        elif metric.endswith("time_until_full_seconds"):
            row.until_full_s = value
        else:
            row.used_percent = value
    labels = {name: json.loads(options).get("labels") or {} for name, options in
              store.query("SELECT name, options FROM hosts")}
    clusters: dict[str, ClusterRow] = {}
    for row in rows.values():
        if row.kind != "hypervisor":
            continue
        host_labels = labels.get(row.host, {})
        row.cluster = next((host_labels[key] for key in CLUSTER_LABELS if host_labels.get(key)), "")
        cluster = clusters.setdefault(row.cluster, ClusterRow(row.cluster or "(no cluster label)"))
        cluster.hypervisors.append(row.host)
        cluster.state = max(cluster.state, row.state if row.state in (1, 2) else 0)
        if row.fits is not None:
            cluster.fits += row.fits
            cluster.counted += 1
        if row.until_full_s is not None:
            cluster.until_full_s = min(row.until_full_s, cluster.until_full_s or math.inf)
    kinds = ("opennebula_capacity", "opennebula_cluster")
    return Capacity(sorted(clusters.values(), key=lambda c: (c.name.startswith("("), c.name)),
                    [row for row in rows.values() if row.kind in kinds],
                    sorted((row for row in rows.values() if row.kind in ("hypervisor", "opennebula_host")),
                           key=lambda r: (r.fits if r.fits is not None else math.inf, r.host)),
                    [row for row in rows.values() if row.kind == "opennebula_datastore"])
