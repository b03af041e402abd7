"""OpenNebula through its XML-RPC API: the special agent against a replay of a real frontend's
answers (tests/labs/opennebula.py; the documents' provenance in fixtures/corpus/SOURCE.md) on
Python's own XML-RPC server: every host, VM and datastore a service, free capacity counted by
hand, VM failures, the frontend refusing the login, not answering, or answering something
hostile; no secret from a template ever in the output. The parsers on any input."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import outcomes, run_after_discovery
from tests.labs.opennebula import OpenNebulaReplay
from watchkeeper.collect.hosts import make_transport
from watchkeeper.collect.opennebula import OpenNebulaTransport, answer
from watchkeeper.errors import AgentFailed, AgentUnreachable, ConfigError
from watchkeeper.model.hosts import HostConfig, parse_uri
from watchkeeper.paths import Paths
from watchkeeper.plugins.opennebula.section import (
    parse_opennebula_datastores,
    parse_opennebula_hosts,
    parse_opennebula_vms,
)

SESSION = "oneadmin:opennebula-test"
CEPH_SECRET = "8271ce8a-385d-44d7-a228-c42de4259c5e"
"""A secret in the real VM and datastore templates: never in what the special agent writes."""


@pytest.fixture
def frontend() -> Iterator[OpenNebulaReplay]:
    with OpenNebulaReplay(SESSION) as replay:
        yield replay


@pytest.fixture
def login(tmp_path: Path) -> Path:
    path = tmp_path / "one_auth"
    path.write_text(SESSION + "\n")
    path.chmod(0o600)
    return path


async def fetch(url: str, login: Path, **options: float) -> bytes:
    transport = OpenNebulaTransport("cloud", url, str(login), **options)  # type: ignore[arg-type]
    try:
        return (await transport.fetch()).data
    finally:
        await transport.close()


async def test_every_host_vm_and_datastore_is_a_service_and_capacity_is_counted(
        frontend: OpenNebulaReplay, login: Path) -> None:
    output = await fetch(frontend.url, login)
    assert CEPH_SECRET.encode() not in output and b"CEPH_SECRET" not in output
    assert frontend.calls == ["one.hostpool.info", "one.vmpool.info", "one.datastorepool.info"]
    found = outcomes(output)
    assert found["OpenNebula host hyp101"].state == 0
    # hyp101: MAX_MEM 16433996 KiB, 524288 allocated; MAX_CPU 800, 100 allocated; the one running VM
    # has 512 MiB and 1 CPU: 15909708 KiB / 524288 KiB = 30 by memory, 700 / 100 = 7 by CPU
    assert "1 VMs; allocated 512.00 MiB of 15.67 GiB memory, 1 of 8 CPUs, fits 7 more VMs of 1 CPU and " \
        "512.00 MiB" in found["OpenNebula host hyp101"].summary
    error = found["OpenNebula host hyp103"]
    assert error.state == 2 and "ERROR: Wed Sep 10 10:52:57 2014 : Error monitoring Host hyp103 (168)" in error.summary
    capacity = found["OpenNebula capacity"]
    # hyp102 is empty: 8 by CPU; the two hosts in ERROR take no VMs
    assert "hosts: 2 ERROR, 2 MONITORED" in capacity.summary and "that still fit: 15" in capacity.summary
    vm = found["OpenNebula VM testttylinux-60"]
    assert vm.state == 0 and "RUNNING on hyp101, 1 CPU, 512.00 MiB, owner oneadmin" in vm.summary
    datastore = found["OpenNebula datastore ceph.altaria"]
    assert datastore.state == 0 and "used 164.57 GiB of 46.39 TiB: 0.35%" in datastore.summary
    assert found["Agent"].state == 0, found["Agent"].summary


@pytest.mark.parametrize(("change", "state", "text"), [
    ("<LCM_STATE>39</LCM_STATE>", 2, "PROLOG_FAILURE"),
    ("<LCM_STATE>16</LCM_STATE>", 2, "UNKNOWN: its host no longer reports it"),
    ("<LCM_STATE>36</LCM_STATE>", 2, "BOOT_FAILURE"),
])
async def test_a_vm_that_fails_or_is_lost_is_crit(frontend: OpenNebulaReplay, login: Path, change: str, state: int,
                                                  text: str) -> None:
    before = await fetch(frontend.url, login)
    frontend.vms = frontend.vms.replace("<LCM_STATE>3</LCM_STATE>", change)
    vm = run_after_discovery(before, await fetch(frontend.url, login))["OpenNebula VM testttylinux-60"]
    assert vm.state == state and text in vm.summary, vm.summary


async def test_a_vm_powered_off_after_discovery_is_crit_one_off_at_discovery_is_not(
        frontend: OpenNebulaReplay, login: Path) -> None:
    running = await fetch(frontend.url, login)
    frontend.vms = frontend.vms.replace("<STATE>3</STATE><LCM_STATE>3</LCM_STATE>",
                                        "<STATE>8</STATE><LCM_STATE>0</LCM_STATE>")
    off = await fetch(frontend.url, login)
    vm = run_after_discovery(running, off)["OpenNebula VM testttylinux-60"]
    assert vm.state == 2 and "POWEROFF (it was RUNNING when discovered)" in vm.summary
    assert outcomes(off)["OpenNebula VM testttylinux-60"].state == 0
    frontend.vms = "<VM_POOL></VM_POOL>"
    gone = run_after_discovery(running, await fetch(frontend.url, login))["OpenNebula VM testttylinux-60"]
    assert gone.state == 2 and "is missing" in gone.summary


async def test_a_refused_login_is_opennebulas_message_and_the_secret_is_never_said(
        frontend: OpenNebulaReplay, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("oneadmin:not-the-password")
    with pytest.raises(AgentFailed, match=r"OpenNebula refused one\.hostpool\.info: \[one\.hostpool\.info\] "
                                          r"User couldn't be authenticated, aborting call\.") as refused:
        await fetch(frontend.url, wrong)
    assert "not-the-password" not in str(refused.value)
    for text, expected in (("", "should hold one line user:password"), ("no-colon", "user:password")):
        wrong.write_text(text)
        with pytest.raises(AgentFailed, match=expected):
            await fetch(frontend.url, wrong)
    with pytest.raises(AgentFailed, match="cannot read the credentials file"):
        await fetch(frontend.url, tmp_path / "missing")


async def test_a_frontend_that_is_down_or_silent_is_unreachable_within_the_limit(login: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(AgentUnreachable, match="cannot reach"):
        await fetch(f"http://127.0.0.1:{port}/RPC2", login, timeout_s=2)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts, never answers
        with pytest.raises(AgentUnreachable, match="no answer .* within 0.5s"):
            await fetch(f"http://127.0.0.1:{silent.getsockname()[1]}/RPC2", login, timeout_s=0.5)


async def test_a_huge_answer_is_cut_with_a_reason(frontend: OpenNebulaReplay, login: Path) -> None:
    frontend.vms = "<VM_POOL>" + "<VM><ID>1</ID><NAME>x</NAME></VM>" * 20000 + "</VM_POOL>"
    with pytest.raises(AgentFailed, match="answered more than 65536 bytes"):
        await fetch(frontend.url, login, max_bytes=65536)


def test_hostile_or_broken_answers_are_refused() -> None:
    entity = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><methodResponse><params><param><value>'
              b"<string>&a;</string></value></param></params></methodResponse>")
    with pytest.raises(AgentFailed, match="declares a DOCTYPE or entities"):
        answer("cloud", "one.hostpool.info", entity)
    inner = (b"<methodResponse><params><param><value><array><data><value><boolean>1</boolean></value><value>"
             b"<string>&lt;!DOCTYPE x&gt;&lt;HOST_POOL/&gt;</string></value></data></array></value></param>"
             b"</params></methodResponse>")
    with pytest.raises(AgentFailed, match="declares a DOCTYPE or entities"):
        answer("cloud", "one.hostpool.info", inner)
    for junk in (b"", b"<html>Bad gateway</html>", b"<methodResponse><params><param><value><int>1</int></value>"
                 b"</param></params></methodResponse>"):
        with pytest.raises(AgentFailed, match="one.vmpool.info answered"):
            answer("cloud", "one.vmpool.info", junk)


async def test_a_host_with_a_one_address_is_fetched_through_the_api(frontend: OpenNebulaReplay, login: Path,
                                                                     tmp_path: Path) -> None:
    address = frontend.url.replace("http://", "one://")
    transport = make_transport(HostConfig("cloud", address, options={"credentials_file": str(login)}),
                               Paths.resolve(str(tmp_path / "home")))
    try:
        output = (await transport.fetch()).data
    finally:
        await transport.close()
    assert b"<<<opennebula_vms:sep(0)>>>" in output and b"testttylinux-60" in output


def test_the_address_names_the_endpoint_and_never_a_login() -> None:
    assert parse_uri("c", "one://frontend:2633/RPC2").path == "http://frontend:2633/RPC2"
    assert parse_uri("c", "ones://frontend").path == "https://frontend/RPC2"
    with pytest.raises(ConfigError, match="holds a login"):
        parse_uri("c", "one://oneadmin:secret@frontend:2633/RPC2")


lines = st.lists(st.one_of(st.text(max_size=200), st.dictionaries(
    st.sampled_from(["id", "name", "state", "lcm_state", "max_mem", "mem_usage", "max_cpu", "cpu_usage",
                     "memory_mib", "cpu", "total_mb", "free_mb", "error"]),
    st.one_of(st.text(max_size=20), st.floats(), st.integers(), st.none()), max_size=10).map(json.dumps)),
    max_size=20)


@given(lines)
def test_the_parsers_take_any_lines(rows: list[str]) -> None:
    table = [[row] for row in rows]
    parse_opennebula_hosts(table + [["<<<opennebula_vms>>>"]] + table)
    parse_opennebula_vms(table)
    parse_opennebula_datastores(table)


async def test_each_cluster_counts_its_own_capacity_and_datastore_space(frontend: OpenNebulaReplay,
                                                                        login: Path) -> None:
    # the real pools with their first two hosts, hyp101 and hyp102 (both MONITORED), and the Ceph
    # datastore put in a cluster
    frontend.hosts = frontend.hosts.replace("<CLUSTER_ID>-1</CLUSTER_ID><CLUSTER></CLUSTER>",
                                            "<CLUSTER_ID>100</CLUSTER_ID><CLUSTER>production</CLUSTER>", 2)
    frontend.datastores = frontend.datastores.replace("<CLUSTER></CLUSTER>", "<CLUSTER>production</CLUSTER>")
    found = outcomes(await fetch(frontend.url, login))
    cluster = found["OpenNebula cluster production"]
    # hyp101 fits 7 (by CPU: 700 / 100), hyp102 8; both 16433996 KiB, 524288 allocated on hyp101
    assert cluster.state == 0, cluster.summary
    assert cluster.summary.startswith("hosts: 2 MONITORED, allocated 512.00 MiB of 31.35 GiB and 1 of 16 CPUs")
    # the Ceph datastore: FREE_MB 48476696 of TOTAL_MB 48645212
    assert "datastores 46.23 TiB free of 46.39 TiB" in cluster.summary
    assert "VMs of 1 CPU and 512.00 MiB that still fit: 15" in cluster.summary
    assert {m.name for m in cluster.metrics} >= {"opennebula_cluster_vms_fit", "opennebula_cluster_ds_free_bytes"}
    assert "OpenNebula cluster " not in " ".join(n for n in found if n != "OpenNebula cluster production")
