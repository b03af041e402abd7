"""CPU load and utilisation: real outputs through the real splitter."""

from __future__ import annotations

from tests.conftest import CHECKMK_1_4, agent_section, fixtures, section_from_file
from watchkeeper.checkapi import Metric, Pending, Result, State, ValueStore
from watchkeeper.plugins.cpu.load import Load, LoadParams, check_cpu_load, parse_cpu_load
from watchkeeper.plugins.cpu.utilization import UtilizationParams, check_cpu_utilization, parse_kernel_cpu

FIXTURES = fixtures(__file__)


def test_load_from_proc_loadavg_and_from_the_checkmk_agent() -> None:
    assert parse_cpu_load(agent_section(CHECKMK_1_4, "cpu")) == Load(0.79, 0.39, 0.17, 2)
    proc = parse_cpu_load(section_from_file(FIXTURES / "proc_loadavg/debian12_vm_idle.txt", "cpu"))
    assert proc == Load(0.62, 0.21, 0.07, 1)  # bare /proc/loadavg has no CPU count


def test_load_per_core_above_crit_is_crit() -> None:
    results = list(check_cpu_load("", LoadParams(), Load(30.0, 25.0, 22.0, 2), {}, 0.0))
    assert results[0] == Result(State.CRIT, "15 min load per core (2 cores): 11.00 (warn/crit at 5.00/10.00)")


def test_cpu_utilisation_from_two_real_proc_stat_samples() -> None:
    first = parse_kernel_cpu(section_from_file(FIXTURES / "proc_stat/debian12_vm_2cpu.txt", "kernel"))
    second = parse_kernel_cpu(agent_section(CHECKMK_1_4, "kernel"))
    assert first is not None and second is not None and first.cpus == 2
    store: ValueStore = {}
    assert list(check_cpu_utilization("", UtilizationParams(), first, store, 0.0)) == [
        Pending("counters initialised or reset; utilisation follows on the next run")]
    results = list(check_cpu_utilization("", UtilizationParams(), second, store, 60.0))
    total = next(r for r in results if isinstance(r, Metric) and r.name == "cpu_util_percent")
    assert 0.0 <= total.value <= 100.0
