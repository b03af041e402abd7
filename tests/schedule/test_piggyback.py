"""Piggyback data through the scheduler: a hypervisor's output (libvirt's test driver read by
the agent's collector) gives each domain's host its `VM` service, a host with no agent of its
own included; a domain that goes away, or data that grows old, makes its host DOWN with whose
data it had last; names that cannot be hosts are said on the source's `Agent` service."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import agent_output, missing
from tests.labs.libvirt import PAUSED, LabDomain, collect, unavailable, write_node
from watchkeeper.model.hosts import HostConfig
from watchkeeper.paths import Paths
from watchkeeper.schedule.scheduler import Scheduler
from watchkeeper.store.database import Store

GIB_KIB = 1024**2
WEB = LabDomain("web01", vcpus=4, memory_kib=4 * GIB_KIB)
DB = LabDomain("db01", vcpus=8, memory_kib=16 * GIB_KIB, state=PAUSED)
SPARE = LabDomain("spare 01", vcpus=2, memory_kib=2 * GIB_KIB)


class Clock:
    def __init__(self) -> None:
        self.now = 1_796_025_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    reason = unavailable()
    if reason is not None:
        missing(reason)
    return tmp_path


def hypervisor(tmp_path: Path, *domains: LabDomain) -> None:
    """The hypervisor host's output: what the agent's libvirt collector prints for this node."""
    uri = write_node(tmp_path / "node.xml", cpus=32, memory_kib=128 * GIB_KIB, domains=list(domains))
    (tmp_path / "hyp1.txt").write_bytes(collect(uri))


async def scheduler_for(tmp_path: Path, clock: Clock, *hosts: HostConfig) -> Scheduler:
    store = Store(tmp_path / "wk.db")
    for host in hosts:
        store.add_host(host)
    scheduler = Scheduler(store, Paths(tmp_path), clock=clock)
    await scheduler.reload()
    return scheduler


async def test_each_domain_gets_its_vm_service_on_its_own_host(lab: Path) -> None:
    hypervisor(lab, WEB, DB, SPARE)
    clock = Clock()
    scheduler = await scheduler_for(
        lab, clock, HostConfig("hyp1", f"file://{lab / 'hyp1.txt'}"), HostConfig("web01", "piggyback"),
        HostConfig("db01", f"file://{agent_output('checkmk-2.1.0i1-debian12-host.txt')}"),
        HostConfig("spare_01", "piggyback"))
    web = scheduler.hosts["web01"]
    assert web.due > clock.now + 60  # a host with only piggyback data waits for it
    source = {o.name: o for o in (await scheduler.check_host(scheduler.hosts["hyp1"])).outcomes}
    assert source["Agent"].state == 0, source["Agent"].summary
    assert "Piggyback data for 3 other hosts: db01, spare_01, web01" in source["Agent"].details
    assert web.due == clock.now  # and is checked as soon as it comes

    clock.now += 5
    cycle = await scheduler.check_host(web)
    found = {o.name: o for o in cycle.outcomes}
    assert cycle.up
    assert found["VM"].state == 0 and found["VM"].summary.startswith("running, 4 vCPUs, 4.00 GiB of 4.00 GiB")
    assert found["Agent"].summary.startswith("piggyback data from hyp1 (5 seconds old), 1 section")
    assert {o.name: o.state for o in (await scheduler.check_host(scheduler.hosts["spare_01"])).outcomes}["VM"] == 0

    # a host with an agent of its own gets the hypervisor's view of it beside its own sections
    db = {o.name: o for o in (await scheduler.check_host(scheduler.hosts["db01"])).outcomes}
    assert db["VM"].state == 1 and "paused" in db["VM"].summary
    assert "Memory" in db and db["Agent"].state == 0, db["Agent"].summary


async def test_a_domain_gone_or_data_grown_old_makes_its_host_down_saying_whose_data_it_had(lab: Path) -> None:
    hypervisor(lab, WEB, DB)
    clock = Clock()
    scheduler = await scheduler_for(lab, clock, HostConfig("hyp1", f"file://{lab / 'hyp1.txt'}"),
                                    HostConfig("web01", "piggyback"), HostConfig("db01", "piggyback"))
    await scheduler.check_host(scheduler.hosts["hyp1"])
    assert (await scheduler.check_host(scheduler.hosts["web01"])).up

    hypervisor(lab, DB)  # web01 undefined on hyp1
    await scheduler.check_host(scheduler.hosts["hyp1"])
    gone = await scheduler.check_host(scheduler.hosts["web01"])
    assert not gone.up and "no host's output holds piggyback data for web01" in gone.error
    stale = {o.name: o for o in gone.outcomes}["VM"]
    assert stale.stale

    clock.now += 3 * 60 + 1  # three of hyp1's intervals without news: db01's data is too old
    old = await scheduler.check_host(scheduler.hosts["db01"])
    assert not old.up and "the newest came from hyp1 181 s ago" in old.error


async def test_piggyback_for_names_that_cannot_be_hosts_is_dropped_and_said(tmp_path: Path) -> None:
    output = tmp_path / "agent.txt"
    output.write_bytes(agent_output("checkmk-2.1.0i1-debian12-host.txt").read_bytes()
                       + b"<<<<vm;reboot>>>>\n<<<mem>>>\nMemTotal: 1 kB\n<<<<source>>>>\n<<<mem>>>\nx\n<<<<>>>>\n"
                       + b"<<<<ok-vm>>>>\n<<<virt_domain:sep(0)>>>\n{\"name\": \"ok-vm\", \"state\": \"running\"}\n")
    clock = Clock()
    scheduler = await scheduler_for(tmp_path, clock, HostConfig("source", f"file://{output}"),
                                    HostConfig("ok-vm", "piggyback"))
    agent = {o.name: o for o in (await scheduler.check_host(scheduler.hosts["source"])).outcomes}["Agent"]
    assert agent.state == 1
    assert "piggyback data for 2 names that cannot be a host's" in agent.summary
    assert "vm;reboot, source" in agent.summary
    assert scheduler.piggyback.targets("source") == {"ok-vm"}
    assert {o.name: o.state for o in (await scheduler.check_host(scheduler.hosts["ok-vm"])).outcomes}["VM"] == 0
