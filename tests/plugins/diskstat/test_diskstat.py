from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import CHECKMK_1_4, agent_section, fixtures, results, section_from_file
from watchkeeper.checkapi import Metric, Pending, ValueStore
from watchkeeper.plugins.diskstat.diskstat import (
    DiskParams,
    Diskstats,
    check_diskstat,
    discover_diskstat,
    parse_diskstat,
)

FIXTURES = fixtures(__file__)


def test_proc_diskstats_discovers_whole_disks_only() -> None:
    section = parse_diskstat(section_from_file(FIXTURES / "proc_diskstats/debian12_vm.txt", "diskstat"))
    assert section is not None and "loop0" in section.disks
    assert [s.item for s in discover_diskstat(section)] == ["vda"]


def test_checkmk_diskstat_has_the_agent_clock_and_skips_dmsetup_info() -> None:
    section = parse_diskstat(agent_section(CHECKMK_1_4, "diskstat"))
    assert section is not None and section.timestamp == 1795238627.0
    assert section.disks["vda"].read_bytes == 2523858 * 512


def test_rates_latency_and_utilisation_between_two_real_samples() -> None:
    earlier = parse_diskstat(section_from_file(FIXTURES / "proc_diskstats/debian12_vm.txt", "diskstat"))
    later = parse_diskstat(agent_section(CHECKMK_1_4, "diskstat"))
    assert earlier is not None and later is not None
    store: ValueStore = {}
    first = list(check_diskstat("vda", DiskParams(), replace(earlier, timestamp=1795238527.0), store, 0.0))
    assert any(isinstance(r, Pending) for r in first)
    metrics = {m.name: m.value for m in check_diskstat("vda", DiskParams(), later, store, 0.0)
               if isinstance(m, Metric)}
    assert metrics["disk_read_bytes_per_second"] == (2523858 - 1479810) * 512 / 100
    assert metrics["disk_read_ios_per_second"] == (35288 - 27783) / 100
    ios = (35288 - 27783) + (12011 - 8565)
    assert abs(metrics["disk_latency_seconds"] - ((9733 - 4145) + (6715 - 2035)) / 1000 / ios) < 1e-12
    assert metrics["disk_utilization_percent"] == pytest.approx((4032 - 2700) / 100 / 10)


def test_vanished_disk_is_reported() -> None:
    assert "missing" in results(check_diskstat("sdz", DiskParams(), Diskstats(None, {}), {}, 0.0))[0].summary


@given(st.lists(st.lists(st.one_of(st.text(max_size=6), st.integers(0, 99).map(str)), min_size=1, max_size=20)))
def test_parse_diskstat_never_crashes(table: list[list[str]]) -> None:
    parse_diskstat(table)
