"""Which graphs a service's metrics make: a title, the unit, and how the series combine (lines,
stacked, or mirrored in/out), so a service shows a few meaningful graphs instead of one per
series. A metric no definition claims gets a graph of its own, titled from its name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from watchkeeper.model.verdicts import unit_of
from watchkeeper.web.series import GROWTH


@dataclass(frozen=True, slots=True)
class GraphDef:
    title: str
    metrics: tuple[str, ...]
    """Metric names (or, ending in `*`, prefixes) in the order they are drawn."""
    kind: str = "lines"
    """`lines`, `stacked` (parts of a whole: areas on top of each other) or `mirrored` (the
    second series drawn below zero: in above, out below)."""
    labels: tuple[str, ...] = ()
    """The legend's names of the series, else their metric names in words."""


DEFS = (
    GraphDef("CPU utilisation", ("cpu_user_percent", "cpu_system_percent", "cpu_iowait_percent",
                                 "cpu_steal_percent"), "stacked", ("user", "system", "iowait", "steal")),
    GraphDef("CPU load", ("load1", "load5", "load15"), labels=("1 min", "5 min", "15 min")),
    GraphDef("Traffic", ("if_in_bytes_per_second", "if_out_bytes_per_second"), "mirrored", ("in", "out")),
    GraphDef("Packets", ("if_in_packets_per_second", "if_out_packets_per_second"), "mirrored", ("in", "out")),
    GraphDef("Errors and drops", ("if_in_errors_per_second", "if_out_errors_per_second", "if_in_drops_per_second",
                                  "if_out_drops_per_second"), labels=("errors in", "errors out", "drops in",
                                                                      "drops out")),
    GraphDef("Disk throughput", ("disk_read_bytes_per_second", "disk_write_bytes_per_second"), "mirrored",
             ("read", "write")),
    GraphDef("Disk operations", ("disk_read_ios_per_second", "disk_write_ios_per_second"), "mirrored",
             ("read", "write")),
    GraphDef("Space", ("fs_used_bytes", "fs_free_bytes"), "stacked", ("used", "free")),
    GraphDef("Memory", ("mem_used_bytes", "swap_used_bytes"), labels=("RAM used", "swap used")),
    GraphDef("Used space (%)", ("fs_used_percent",), labels=("used",)),
    GraphDef("Inodes used (%)", ("inodes_used_percent",), labels=("used",)),
    GraphDef("Memory used (%)", ("mem_used_percent", "swap_used_percent"), labels=("RAM", "swap")),
    GraphDef("CPU utilisation (%)", ("cpu_util_percent",), labels=("busy",)),
    GraphDef("Disk busy (%)", ("disk_utilization_percent",), labels=("busy",)),
    GraphDef("Disk latency", ("disk_latency_seconds",), labels=("latency",)),
)

_SUFFIXES = ("_bytes_per_second", "_per_second", "_percent", "_bytes", "_seconds")


def words(metric: str) -> str:
    """`fs_used_percent` -> "fs used", `disk_latency_seconds` -> "disk latency": the name without
    its unit, which the axis shows."""
    for suffix in _SUFFIXES:
        if metric.endswith(suffix) and len(metric) > len(suffix):
            metric = metric[:-len(suffix)]
            break
    return metric.replace("_", " ")


def title_of(metric: str) -> str:
    text = words(metric)
    unit = unit_of(metric)
    return text[:1].upper() + text[1:] + (" (%)" if unit == "%" else "")


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    unit: str
    kind: str
    metrics: tuple[str, ...]
    labels: tuple[str, ...]


def _matches(pattern: str, metric: str) -> bool:
    return metric.startswith(pattern[:-1]) if pattern.endswith("*") else metric == pattern


def charts(metrics: Sequence[str]) -> list[Chart]:
    """The graphs for a service's metrics, in the definitions' order, then one per metric left.
    A definition's series must share a unit; growth metrics are not drawn: they are the
    projection of the `_used_bytes` they belong to."""
    left = [metric for metric in metrics if not metric.endswith(GROWTH)]
    found: list[Chart] = []
    for graph in DEFS:
        members = [metric for pattern in graph.metrics for metric in left if _matches(pattern, metric)]
        if not members or len({unit_of(metric) for metric in members}) != 1:
            continue
        labels = tuple(graph.labels[graph.metrics.index(m)] if m in graph.metrics and graph.labels else words(m)
                       for m in members)
        found.append(Chart(graph.title, unit_of(members[0]), graph.kind if len(members) > 1 else "lines",
                           tuple(members), labels))
        left = [metric for metric in left if metric not in members]
    found += [Chart(title_of(metric), unit_of(metric), "lines", (metric,), (words(metric),)) for metric in left]
    return found
