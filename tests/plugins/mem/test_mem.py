"""Memory from /proc/meminfo: real outputs through the real splitter."""

from __future__ import annotations

from tests.conftest import CHECKMK_1_4, agent_section, fixtures, section_from_file
from watchkeeper.checkapi import Metric, Result, State
from watchkeeper.plugins.mem.mem import MemInfo, MemParams, check_mem, parse_mem

FIXTURES = fixtures(__file__)


def test_meminfo_from_proc_and_from_the_checkmk_agent_parse_alike() -> None:
    from_proc = parse_mem(section_from_file(FIXTURES / "proc_meminfo/debian12_vm_healthy.txt", "mem"))
    from_agent = parse_mem(agent_section(CHECKMK_1_4, "mem"))
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
