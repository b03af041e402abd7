"""OS info, uptime, CPU load and utilisation, memory: real outputs through the real splitter."""

from __future__ import annotations

from tests.conftest import agent_section, section_from_file
from watchkeeper.checkapi import Metric, Pending, Result, State, ValueStore
from watchkeeper.checkapi.plugin import NoParams
from watchkeeper.plugins.agent_info.agent_info import check_agent_info, parse_check_mk
from watchkeeper.plugins.cpu.load import Load, LoadParams, check_cpu_load, parse_cpu_load
from watchkeeper.plugins.cpu.utilization import (
    UtilizationParams,
    check_cpu_utilization,
    parse_kernel_cpu,
)
from watchkeeper.plugins.mem.mem import MemInfo, MemParams, check_mem, parse_mem
from watchkeeper.plugins.uptime.uptime import parse_uptime

OLD_AGENT = "checkmk_agent/linux_1.4.0i2_debian12_vm.txt"
NEW_AGENT = "checkmk_agent/linux_2.3.0b1_debian12_vm.txt"


def test_meminfo_from_proc_and_from_the_checkmk_agent_parse_alike() -> None:
    from_proc = parse_mem(section_from_file("proc_meminfo/debian12_vm_healthy.txt", "mem"))
    from_agent = parse_mem(agent_section(OLD_AGENT, "mem"))
    assert from_agent == MemInfo(24684084 * 1024, 23527228 * 1024, 0, 0)
    assert from_proc is not None and from_proc.total_bytes == from_agent.total_bytes


def test_ram_used_above_warn_level_is_warn() -> None:
    assert list(check_mem("", MemParams(), MemInfo(100, 15, 0, 0), {}, 0.0)) == [
        Result(State.WARN, "RAM used: 85.00% (warn/crit at 80.00%/90.00%)"),
        Metric("mem_used_percent", 85.0, levels=(80.0, 90.0)),
        Metric("mem_used_bytes", 85, boundaries=(0, 100)),
    ]


def test_meminfo_without_memavailable_gives_no_section() -> None:
    assert parse_mem([["MemTotal:", "100", "kB"], ["MemFree:", "50", "kB"]]) is None


def test_load_from_proc_loadavg_and_from_the_checkmk_agent() -> None:
    assert parse_cpu_load(agent_section(OLD_AGENT, "cpu")) == Load(0.79, 0.39, 0.17, 2)
    proc = parse_cpu_load(section_from_file("proc_loadavg/debian12_vm_idle.txt", "cpu"))
    assert proc == Load(0.62, 0.21, 0.07, 1)  # bare /proc/loadavg has no CPU count


def test_load_per_core_above_crit_is_crit() -> None:
    results = list(check_cpu_load("", LoadParams(), Load(30.0, 25.0, 22.0, 2), {}, 0.0))
    assert results[0] == Result(State.CRIT, "15 min load per core (2 cores): 11.00 (warn/crit at 5.00/10.00)")


def test_cpu_utilisation_from_two_real_proc_stat_samples() -> None:
    first = parse_kernel_cpu(section_from_file("proc_stat/debian12_vm_2cpu.txt", "kernel"))
    second = parse_kernel_cpu(agent_section(OLD_AGENT, "kernel"))
    assert first is not None and second is not None and first.cpus == 2
    store: ValueStore = {}
    assert list(check_cpu_utilization("", UtilizationParams(), first, store, 0.0)) == [
        Pending("counters initialised or reset; utilisation follows on the next run")]
    results = list(check_cpu_utilization("", UtilizationParams(), second, store, 60.0))
    total = next(r for r in results if isinstance(r, Metric) and r.name == "cpu_util_percent")
    assert 0.0 <= total.value <= 100.0


def test_uptime_with_and_without_idle_seconds() -> None:
    assert parse_uptime(agent_section(OLD_AGENT, "uptime")) == 426.10
    assert parse_uptime(agent_section(NEW_AGENT, "uptime")) == 403.0
    assert parse_uptime([["nan"]]) is None


def test_checkmk_agent_header_gives_the_os_service() -> None:
    info = parse_check_mk(agent_section(OLD_AGENT, "check_mk"))
    assert info is not None and info.version == "1.4.0i2"
    assert [r.state for r in check_agent_info("", NoParams(), info, {}, 0.0) if isinstance(r, Result)] == [State.OK]


def test_failed_agent_collectors_are_a_warning() -> None:
    info = parse_check_mk([["AgentOS:", "linux"], ["FailedCollectors:", "linux_df(PermissionError)"]])
    assert info is not None
    assert Result(State.WARN, "agent collectors failed: linux_df(PermissionError); run the agent by hand on "
                  "the host to see why") in list(check_agent_info("", NoParams(), info, {}, 0.0))
