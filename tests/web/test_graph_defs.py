"""Which graphs a service's metrics make: combined by definition, titled in words, and a graph
of its own for any metric no definition claims."""

from __future__ import annotations

from watchkeeper.web.graph_defs import charts, title_of


def test_related_series_share_a_graph_and_the_rest_get_their_own() -> None:
    found = charts(["if_in_bytes_per_second", "if_out_bytes_per_second", "if_in_errors_per_second",
                    "cpu_user_percent", "cpu_system_percent", "zfs_fragmentation_percent",
                    "fs_used_bytes", "fs_growth_bytes_per_second"])
    assert [(c.title, c.kind, c.metrics, c.labels) for c in found] == [
        ("CPU utilisation", "stacked", ("cpu_user_percent", "cpu_system_percent"), ("user", "system")),
        ("Traffic", "mirrored", ("if_in_bytes_per_second", "if_out_bytes_per_second"), ("in", "out")),
        ("Errors and drops", "lines", ("if_in_errors_per_second",), ("errors in",)),
        ("Space", "lines", ("fs_used_bytes",), ("used",)),  # its growth is its projection, not a graph
        ("Zfs fragmentation (%)", "lines", ("zfs_fragmentation_percent",), ("zfs fragmentation",)),
    ]
    assert [c.unit for c in found] == ["%", "B/s", "/s", "B", "%"]


def test_a_title_says_the_metric_in_words_without_its_unit() -> None:
    assert title_of("disk_latency_seconds") == "Disk latency"
    assert title_of("load1") == "Load1"
    assert title_of("ceph_pool_used_percent") == "Ceph pool used (%)"
