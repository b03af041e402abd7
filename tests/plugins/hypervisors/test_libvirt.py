"""libvirt hypervisors through the agent's `virsh` collector against libvirt's own test driver
(tests/labs/libvirt.py): how many more VMs fit, counted by hand; each domain judged against its
state at discovery, as domains stop, vanish and appear; a domain name that is a command; virsh
failing or hanging. The parser on the corpus's test-driver outputs and on a real KVM host's
`domstats` (fixtures/*/SOURCE.md), and on any input at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import missing, outcomes, run_after_discovery
from tests.labs.libvirt import CRASHED, PAUSED, PMSUSPENDED, SHUT_OFF, LabDomain, collect, unavailable, write_node
from watchkeeper.checkapi import SectionUnparsed, ValueStore
from watchkeeper.engine.checking import collapse
from watchkeeper.plugins.hypervisors.capacity import HypervisorParams, check_hypervisor
from watchkeeper.plugins.hypervisors.domains import DomainParams, check_domain
from watchkeeper.plugins.hypervisors.libvirt import parse_libvirt

FIXTURES = Path(__file__).parent / "fixtures"
GIB_KIB = 1024**2
HOSTILE = "build agent'; echo INJECTED; echo '"


@pytest.fixture(autouse=True)
def virsh() -> None:
    reason = unavailable()
    if reason is not None:
        missing(reason)


def lab(tmp_path: Path, *domains: LabDomain) -> str:
    return write_node(tmp_path / "node.xml", cpus=32, memory_kib=128 * GIB_KIB, domains=list(domains))


WEB = LabDomain("web01", vcpus=4, memory_kib=4 * GIB_KIB)
DB = LabDomain("db01", vcpus=8, memory_kib=16 * GIB_KIB, current_kib=8 * GIB_KIB, state=PAUSED)
BUILD = LabDomain(HOSTILE, vcpus=2, memory_kib=2 * GIB_KIB, state=SHUT_OFF)


def test_the_hypervisor_counts_how_many_more_vms_fit_as_by_hand(tmp_path: Path) -> None:
    found = outcomes(collect(lab(tmp_path, WEB, DB, BUILD)))
    hypervisor = found["Hypervisor"]
    assert hypervisor.state == 0, hypervisor.summary
    assert "32 CPUs, 128.00 GiB; 1 paused, 1 running, 1 shut off" in hypervisor.summary
    # held: web01's 4 GiB and db01's 8 (paused, its balloon at 8 of 16); the shut-off one holds none
    assert "vCPUs 12 of 128 allowed (4 per CPU)" in hypervisor.summary
    assert "memory held by domains 12.00 GiB of 115.20 GiB (10.00% kept for the host)" in hypervisor.summary
    # the median running domain is web01: (115.2 - 12) GiB / 4 GiB = 25.8; (128 - 12) / 4 = 29 by vCPUs
    assert "VMs of 4 vCPUs and 4.00 GiB that still fit (bound by memory): 25" in hypervisor.summary
    metrics = {metric.name: metric.value for metric in hypervisor.metrics}
    assert metrics["hypervisor_vms_fit"] == 25 and metrics["hypervisor_vcpus_allocated"] == 12
    assert found["Agent"].state == 0, found["Agent"].summary


def test_a_full_hypervisor_warns_that_no_vm_of_the_size_fits(tmp_path: Path) -> None:
    big = [LabDomain(f"big{n}", vcpus=16, memory_kib=36 * GIB_KIB) for n in range(3)]
    hypervisor = outcomes(collect(lab(tmp_path, *big)))["Hypervisor"]
    assert hypervisor.state == 1 and "that still fit (bound by memory): 0 (warn/crit below 1/0)" in hypervisor.summary


def test_each_vm_is_judged_against_its_state_at_discovery_as_vms_stop_vanish_and_appear(tmp_path: Path) -> None:
    before = collect(lab(tmp_path, WEB, DB, BUILD))
    found = outcomes(before)
    assert found["VM web01"].state == 0 and "running" in found["VM web01"].summary
    assert "4 vCPUs, 4.00 GiB of 4.00 GiB memory" in found["VM web01"].summary
    assert found["VM db01"].state == 1 and "paused" in found["VM db01"].summary
    assert found[f"VM {HOSTILE}"].state == 0 and "shut off, as when discovered" in found[f"VM {HOSTILE}"].summary
    stopped = LabDomain(WEB.name, WEB.vcpus, WEB.memory_kib, state=SHUT_OFF, uuid=WEB.uuid)
    started = LabDomain(BUILD.name, BUILD.vcpus, BUILD.memory_kib, uuid=BUILD.uuid)
    after = collect(lab(tmp_path, stopped, started, LabDomain("new01", vcpus=2, memory_kib=GIB_KIB)))
    later = run_after_discovery(before, after)
    assert later["VM web01"].state == 2 and "shut off (it was running when discovered)" in later["VM web01"].summary
    assert later["VM db01"].state == 2 and "VM db01 is missing" in later["VM db01"].summary
    assert later[f"VM {HOSTILE}"].state == 0 and later[f"VM {HOSTILE}"].summary.startswith("running")
    assert "VM new01" not in later  # a service once discovery runs again


def test_crashed_and_guest_suspended_domains(tmp_path: Path) -> None:
    found = outcomes(collect(lab(tmp_path, LabDomain("c", 1, GIB_KIB, state=CRASHED),
                                   LabDomain("s", 1, GIB_KIB, state=PMSUSPENDED))))
    assert found["VM c"].state == 2 and found["VM c"].summary.startswith("crashed")
    assert found["VM s"].state == 1 and "suspended by the guest" in found["VM s"].summary


def test_a_domain_name_is_never_run_as_a_command(tmp_path: Path) -> None:
    output = collect(lab(tmp_path, WEB, BUILD))
    assert b"INJECTED" in output  # the name is there, as data
    assert b"\nINJECTED\n" not in output  # and nothing ran it
    assert HOSTILE in parse_libvirt([[line] for line in output.decode().splitlines()[1:]]).domains


def test_virsh_failing_or_hanging_is_unknown_with_the_reason(tmp_path: Path) -> None:
    agent_service = outcomes(collect(f"test://{tmp_path}/no-such-node.xml"))["Agent"]
    assert agent_service.state == 1 and "section <<<libvirt>>> could not be read: virsh failed: virsh exited " \
        "with 1: error: XML error: failed to parse xml document" in agent_service.summary, agent_service.summary
    hung = tmp_path / "virsh"
    hung.write_text("#!/bin/sh\nexec sleep 30\n")
    os.chmod(hung, 0o755)
    output = collect("test:///default", virsh=str(hung), timeout_s=1)
    with pytest.raises(SectionUnparsed, match="virsh failed: .*virsh did not answer within 1"):
        parse_libvirt([[line] for line in output.decode().splitlines()[1:]])


def section_from_corpus(*parts: tuple[str, str]) -> list[list[str]]:
    lines: list[str] = []
    for marker, name in parts:
        lines.append(f"[{marker}]")
        lines.extend((FIXTURES / name).read_text().splitlines())
    return [[line] for line in lines]


def test_the_corpus_outputs_of_the_test_driver_read_as_written() -> None:
    section = parse_libvirt(section_from_corpus(
        ("nodeinfo", "corpus/testdriver_32cpu.txt"),
        ("dominfo 4dea22b3-1d52-d8f3-2516-782e98ab3fa1", "corpus/testdriver_paused.txt"),
        ("dominfo x", "corpus/testdriver_shutoff.txt"),
        ("dominfo y", "corpus/testdriver_default_running.txt")))
    assert (section.cpus, section.memory_bytes, section.mhz) == (32, 128 * 1024**3, 2400)
    db = section.domains["db01"]
    assert (db.state, db.vcpus, db.memory_bytes, db.max_memory_bytes) == ("paused", 8, 8 * 1024**3, 16 * 1024**3)
    assert db.autostart is False and db.persistent is True
    assert {d.state for d in section.domains.values()} == {"paused", "shut off", "running"}
    assert not section.unread


def test_a_real_kvm_domstats_gives_vcpus_balloon_and_cpu_use() -> None:
    lines = ["[domstats]", *(FIXTURES / "public/kvm_domstats_windows_server_2022.txt").read_text().splitlines()]
    section = parse_libvirt([[line] for line in lines])
    vm = section.domains["windows-server-2022"]
    assert (vm.state, vm.vcpus, vm.memory_bytes, vm.max_memory_bytes) == ("running", 8, 8 * 1024**3, 16 * 1024**3)
    store: ValueStore = {}
    params = DomainParams(state_at_discovery="running")
    collapse("VM", check_domain("windows-server-2022", params, section, store, 1000.0))
    vm.counters["cpu.time"] += 8e9  # eight seconds of CPU in ten: one of its eight vCPUs busy
    outcome = collapse("VM", check_domain("windows-server-2022", params, section, store, 1010.0))
    assert "CPU: 10.00%" in outcome.summary and "8.00 GiB of 16.00 GiB memory" in outcome.summary


def test_a_size_unknown_is_said_not_counted_as_zero() -> None:
    section = parse_libvirt([["[nodeinfo]"], ["CPU(s): 4"], ["Memory size: 4194304 KiB"], ["[domstats]"],
                             ["Domain: 'x'"], ["  state.state=1"]])
    outcome = collapse("Hypervisor", check_hypervisor("", HypervisorParams(), section, {}, 0.0))
    assert outcome.state == 3 and "size unknown of x" in outcome.summary


@given(st.lists(st.text(max_size=120), max_size=40))
def test_any_input_parses_or_is_refused_with_a_reason(lines: list[str]) -> None:
    for table in ([[line] for line in lines], [["[domstats]"], *([line] for line in lines)],
                  [["[dominfo u]"], *([line] for line in lines)]):
        try:
            section = parse_libvirt(table)
        except SectionUnparsed:
            continue
        collapse("Hypervisor", check_hypervisor("", HypervisorParams(), section, {}, 0.0))
        for name in list(section.domains)[:3]:
            collapse("VM", check_domain(name, DomainParams(), section, {}, 0.0))


def test_huge_numbers_and_long_lines_stay_bounded() -> None:
    lines = ["[nodeinfo]", "CPU(s): " + "9" * 5000, "Memory size: 1e400 KiB", "[domstats]", "Domain: 'x'",
             "  balloon.current=" + "9" * 300, "  vcpu.current=1e308",
             *(f"  block.{n}.rd.bytes=1" for n in range(5000))]
    section = parse_libvirt([[line] for line in lines])
    domain = section.domains["x"]
    assert section.cpus == 0 and section.memory_bytes == 0 and len(domain.counters) <= 1024
    assert domain.vcpus is None and domain.memory_bytes is None
