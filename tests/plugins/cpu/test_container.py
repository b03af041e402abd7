"""A container's CPU use from two real samples of the Checkmk agent's container mode (cgroup
v1 `cpuacct.stat` beside the host's /proc/stat line), and its memory against the host's."""

from __future__ import annotations

import pytest

from tests.conftest import CHECKMK_2_3_CONTAINER, agent_section, fixtures, results, section_from_file
from watchkeeper.checkapi import Metric, Pending, SectionUnparsed, State, ValueStore
from watchkeeper.plugins.cpu.container import parse_docker_container_cpu
from watchkeeper.plugins.cpu.utilization import UtilizationParams, check_cpu_utilization
from watchkeeper.plugins.mem.container import parse_docker_container_mem
from watchkeeper.plugins.mem.mem import MemInfo, MemParams, check_mem

LATER = "checkmk-2.3.0b1-debian12-container-plugins.txt"  # a later run on the same machine


def test_utilisation_between_two_real_samples_is_the_containers_share_of_the_host() -> None:
    first = parse_docker_container_cpu(agent_section(CHECKMK_2_3_CONTAINER, "docker_container_cpu"))
    second = parse_docker_container_cpu(agent_section(LATER, "docker_container_cpu"))
    assert first is not None and second is not None and second.cpus == 2
    store: ValueStore = {}
    assert any(isinstance(out, Pending) for out in check_cpu_utilization("", UtilizationParams(), first, store, 0.0))
    metrics = {m.name: m.value for m in check_cpu_utilization("", UtilizationParams(), second, store, 0.0)
               if isinstance(m, Metric)}
    # host ticks: 332195 - 80257; container: (58847 - 6520) + (16290 - 4926)
    assert metrics["cpu_util_percent"] == pytest.approx(100.0 * 63691 / 251938)


def test_memory_without_a_limit_is_measured_against_the_host() -> None:
    mem = parse_docker_container_mem(agent_section(LATER, "docker_container_mem"))
    assert mem is not None
    table = agent_section(LATER, "docker_container_mem")
    values = {row[0]: row[1] for row in table if len(row) >= 2}
    assert mem.total_bytes == int(values["MemTotal:"]) * 1024  # limit_in_bytes is 2^63-ish: no limit
    used = int(values["usage_in_bytes"]) - int(values["total_inactive_file"])
    assert mem.total_bytes - mem.available_bytes == used


def test_a_limit_below_the_host_is_the_containers_total() -> None:
    table = [*agent_section(LATER, "docker_container_mem")]
    table = [row for row in table if row[0] != "limit_in_bytes"] + [["limit_in_bytes", str(512 * 2**20)]]
    mem = parse_docker_container_mem(table)
    assert mem is not None and mem.total_bytes == 512 * 2**20


def test_a_zero_limit_is_no_limit_and_no_memory_at_all_is_unknown() -> None:
    """Found by the fuzzer: `limit_in_bytes 0` made the total 0 and the check divide by it."""
    table = [row for row in agent_section(LATER, "docker_container_mem") if row[0] != "limit_in_bytes"]
    mem = parse_docker_container_mem([*table, ["limit_in_bytes", "0"]])
    assert mem is not None and mem.total_bytes > 0
    broken = MemInfo(total_bytes=0, available_bytes=0, swap_total_bytes=0, swap_free_bytes=0)
    [result] = results(check_mem("", MemParams(), broken, {}, 0.0))
    assert result.state == State.UNKNOWN and "total 0" in result.summary


V2 = fixtures(__file__) / "docker_container_cpu_cgroupv2"


@pytest.mark.parametrize(("pair", "cpus", "of_one_cpu"), [("docker", 8, 151.42614910676645),
                                                          ("lxc", 2, 151.39834855263476)])
def test_cgroup_v2_samples_under_stress_ng_give_the_load_the_source_measured(pair: str, cpus: int,
                                                                           of_one_cpu: float) -> None:
    """`stress-ng -c2 -l75`: about 150 % of one CPU, as the share of all the host's CPUs."""
    first, second = (parse_docker_container_cpu(section_from_file(V2 / f"{pair}_stress_ng_c2_l75_t{n}.txt",
                                                                  "docker_container_cpu_cgroupv2"))
                     for n in (0, 10))
    assert first is not None and second is not None and second.cpus == cpus
    store: ValueStore = {}
    list(check_cpu_utilization("", UtilizationParams(), first, store, 0.0))
    metrics = {m.name: m.value for m in check_cpu_utilization("", UtilizationParams(), second, store, 0.0)
               if isinstance(m, Metric)}
    assert metrics["cpu_util_percent"] == pytest.approx(of_one_cpu / cpus, rel=1e-3)


def test_an_uptime_beyond_any_host_is_unparsed_not_a_crash() -> None:
    """Found by the fuzzer (1,000,000 inputs, seed 5151): 1e307 s times a million times 8 CPUs is inf."""
    table = [row if row[0] != "uptime" else ["uptime", "0.1e308", "789050.50"]
             for row in section_from_file(V2 / "docker_stress_ng_c2_l75_t0.txt", "docker_container_cpu_cgroupv2")]
    with pytest.raises(SectionUnparsed, match="beyond any real host"):
        parse_docker_container_cpu(table)
