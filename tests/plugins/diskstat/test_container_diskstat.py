"""A container's disk IO from the Checkmk agent's cgroup v2 section: two real samples 59 s
apart (quoted in Checkmk's tests) give the throughput and IOPS the source measured; the cgroup
keeps no service times, so there is no latency or utilisation to tell."""

from __future__ import annotations

import pytest

from tests.conftest import fixtures, section_from_file
from watchkeeper.checkapi import Metric, ValueStore
from watchkeeper.plugins.diskstat.container import parse_docker_container_diskstat
from watchkeeper.plugins.diskstat.diskstat import DiskParams, check_diskstat

V2 = fixtures(__file__) / "docker_container_diskstat_cgroupv2"


def test_rates_between_two_samples() -> None:
    first, second = (parse_docker_container_diskstat(section_from_file(V2 / f"nvme_lvm_t{n}.txt",
                                                                       "docker_container_diskstat_cgroupv2"))
                     for n in (0, 59))
    assert first is not None and second is not None
    assert sorted(second.disks) == ["dm-0", "dm-1", "dm-2", "nvme0n1"]
    store: ValueStore = {}
    list(check_diskstat("nvme0n1", DiskParams(), first, store, 0.0))
    metrics = {m.name: m.value for m in check_diskstat("nvme0n1", DiskParams(), second, store, 59.0)
               if isinstance(m, Metric)}
    assert metrics["disk_read_bytes_per_second"] == pytest.approx(4998.508, rel=1e-4)
    assert metrics["disk_read_ios_per_second"] == pytest.approx(1.22034, rel=1e-4)
    assert metrics["disk_write_ios_per_second"] == pytest.approx(3.13559, rel=1e-4)
    assert "disk_latency_seconds" not in metrics and "disk_utilization_percent" not in metrics
