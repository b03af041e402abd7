"""Xen hosts through the agent's `xl` collector, with a stand-in `xl` that prints real outputs
(fixtures/*/SOURCE.md: `xl info` of a Xen 4.16 host, `xl list` of two others): free memory as
Xen counts it less its heap's share, dom0 left out of the VMs, how many more fit by hand, a
paused guest, a guest gone, and `xl` failing; the parser on any input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import outcomes, run_after_discovery
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import SectionUnparsed
from watchkeeper.engine.checking import collapse
from watchkeeper.plugins.hypervisors.capacity import HypervisorParams, check_hypervisor
from watchkeeper.plugins.hypervisors.xen import parse_xen

FIXTURES = Path(__file__).parent / "fixtures"
INFO = FIXTURES / "corpus/xl_info_arm64_rcar_salvator_x_xen416.txt"


def stand_in(tmp_path: Path, listing: str, exit_code: int = 0) -> Path:
    """An `xl` that prints the real outputs: `xl info` of one host, `xl list` of another."""
    script = tmp_path / "xl"
    script.write_text(f'#!/bin/sh\ncase "$1" in\n  info) cat "{INFO}" ;;\n  list) cat "{FIXTURES / listing}" ;;\n'
                      f'esac\n[ {exit_code} = 0 ] || echo "libxl: error: libxl.c:1: cannot connect to xenstored" >&2\n'
                      f"exit {exit_code}\n")
    os.chmod(script, 0o755)
    return script


def collected(monkeypatch: pytest.MonkeyPatch, xl: Path) -> bytes:
    monkeypatch.setitem(agent.CONFIG, "xen", {"xl": str(xl)})
    out: list[str] = []
    agent.virt_xen(out)  # type: ignore[no-untyped-call]
    return ("\n".join(out) + "\n").encode()


def test_free_memory_is_xens_count_less_its_heap_and_dom0_is_no_vm(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    found = outcomes(collected(monkeypatch, stand_in(tmp_path, "public/xl_list_three_blocked.txt")))
    hypervisor = found["Hypervisor"]
    assert hypervisor.state == 0, hypervisor.summary
    assert "6 CPUs, 7.88 GiB; 2 blocked" in hypervisor.summary  # dom0 is the host, not a VM
    # free_memory 6111 MiB less 12 + 100/10 MiB of heap = 6089 MiB; dom0_mem=1G is on Xen's command line
    assert "free for new domains 5.95 GiB of 7.88 GiB (Xen's free memory less 22.00 MiB for its heap)" \
        in hypervisor.summary
    assert "dom0 balloons" not in hypervisor.summary
    # guests of 2 vCPUs and 1 GiB: 6089 // 1024 = 5 by memory, (6 * 4 - 4) // 2 = 10 by vCPUs
    assert "VMs of 2 vCPUs and 1.00 GiB that still fit (bound by memory): 5" in hypervisor.summary
    assert "Domain-0" not in " ".join(found)
    guest = found["VM guest-01"]
    assert guest.state == 0 and guest.summary.startswith("blocked") and "2 vCPUs, 1.00 GiB" in guest.summary
    assert found["Agent"].state == 0, found["Agent"].summary


def test_a_paused_guest_warns_and_a_guest_gone_is_crit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paused = collected(monkeypatch, stand_in(tmp_path, "public/xl_list_paused.txt"))
    assert outcomes(paused)["VM aws-test"].state == 1
    later = run_after_discovery(paused, collected(monkeypatch, stand_in(tmp_path, "public/xl_list_three_blocked.txt")))
    assert later["VM aws-test"].state == 2 and "VM aws-test is missing" in later["VM aws-test"].summary


def test_xl_failing_is_named_and_what_it_printed_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = collected(monkeypatch, stand_in(tmp_path, "public/xl_list_paused.txt", exit_code=1))
    hypervisor = outcomes(output)["Hypervisor"]
    assert hypervisor.state == 1 and "xl exited with 1: libxl: error" in hypervisor.summary
    assert "VM aws-test" in outcomes(output)  # what xl printed before it failed is still read
    monkeypatch.setitem(agent.CONFIG, "xen", {"xl": str(tmp_path / "no-such-xl")})
    out: list[str] = []
    agent.virt_xen(out)  # type: ignore[no-untyped-call]
    with pytest.raises(SectionUnparsed, match="xl printed neither the host .* nor any domain .*: cannot run "
                                              ".*no-such-xl"):
        parse_xen([[line] for line in out[1:]])


def test_a_dom0_that_balloons_is_said() -> None:
    lines = ["[xl info]", *INFO.read_text().replace("dom0_mem=1G ", "").splitlines(), "[xl list]",
             *(FIXTURES / "public/xl_list_paused.txt").read_text().splitlines()]
    node = parse_xen([[line] for line in lines])
    assert node.host_memory_fixed is False and node.host_memory_bytes == 837 * 1024**2
    outcome = collapse("Hypervisor", check_hypervisor("", HypervisorParams(), node, {}, 0.0))
    assert "dom0 balloons (no dom0_mem on Xen's command line)" in outcome.summary


def test_a_name_with_spaces_and_rows_that_are_no_rows() -> None:
    lines = ["[xl list]", "Name  ID   Mem VCPUs\tState\tTime(s)", "my guest 2   7 2048 4 r----- 1.5",
             "garbage", "[xl info]", "total_memory : 4096", "free_memory : 100"]
    node = parse_xen([[line] for line in lines])
    assert node.domains["my guest 2"].vcpus == 4 and node.domains["my guest 2"].state == "running"
    assert node.unread == ["not an xl list row: garbage"]


@given(st.lists(st.text(max_size=120), max_size=40))
def test_any_input_parses_or_is_refused_with_a_reason(lines: list[str]) -> None:
    for table in ([[line] for line in lines], [["[xl list]"], *([line] for line in lines)],
                  [["[xl info]"], *([line] for line in lines)]):
        try:
            node = parse_xen(table)
        except SectionUnparsed:
            continue
        collapse("Hypervisor", check_hypervisor("", HypervisorParams(), node, {}, 0.0))
