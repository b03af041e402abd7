"""A container's memory from the Checkmk agent's cgroup v2 section (real outputs quoted in
Checkmk's tests): the host's memory without a limit, the limit with one; the inactive page
cache does not count as used."""

from __future__ import annotations

from tests.conftest import fixtures, section_from_file
from watchkeeper.plugins.mem.container import parse_docker_container_mem
from watchkeeper.plugins.mem.mem import MemInfo

V2 = fixtures(__file__) / "docker_container_mem_cgroupv2"


def parse(name: str) -> MemInfo | None:
    return parse_docker_container_mem(section_from_file(V2 / name, "docker_container_mem_cgroupv2"))


def test_no_limit_is_the_hosts_memory_and_the_page_cache_is_not_used() -> None:
    mem = parse("docker_16gb_host_no_limit.txt")
    assert mem is not None and mem.total_bytes == 16202704 * 1024
    assert mem.total_bytes - mem.available_bytes == 110198784 - 47038464


def test_a_limit_is_the_total() -> None:
    mem = parse("docker_memory_limit_9000000.txt")
    assert mem is not None and mem.total_bytes == 8998912
    assert mem.available_bytes == 8998912 - 4718592
