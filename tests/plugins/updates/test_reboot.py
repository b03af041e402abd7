"""`Reboot needed` from needrestart's batch output (a real Debian 12 capture) and the agent's own
lines: a kernel waiting, services running replaced libraries, the package system's flag."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, results
from watchkeeper.checkapi import SectionUnparsed, State, StringTable
from watchkeeper.plugins.updates.reboot import RebootParams, check_reboot_needed, parse_reboot_needed

FIXTURES = fixtures(__file__)


def section(*lines: str) -> StringTable:
    return [[line] for line in lines]


def needrestart() -> list[str]:
    return (FIXTURES / "needrestart_b/kernel-and-3-services.txt").read_text().splitlines()


def test_a_new_kernel_and_three_services_from_real_needrestart_warn_and_name_them() -> None:
    state = parse_reboot_needed(section("flag no", "kernel_running 6.1.0-20-amd64", *needrestart()))
    found = results(check_reboot_needed("", RebootParams(), state, {}, 0.0))
    assert [r.state for r in found] == [State.WARN, State.WARN, State.OK]
    assert found[0].summary == "running kernel 6.1.0-20-amd64, a reboot starts 6.1.0-22-amd64"
    assert found[1].summary == "3 services run replaced libraries and need a restart: apache2, cron, getty@tty1"
    assert found[2].summary == "2 user sessions run replaced libraries"


def test_the_package_systems_flag_and_a_newer_kernel_in_boot_without_needrestart() -> None:
    state = parse_reboot_needed(section("flag yes", "flag_packages libc6 linux-image-6.1.0-22-amd64",
                                        "kernel_running 6.1.0-20-amd64",
                                        "kernel_installed 6.1.0-18-amd64 6.1.0-20-amd64 6.1.0-22-amd64"))
    found = results(check_reboot_needed("", RebootParams(), state, {}, 0.0))
    assert [r.summary for r in found] == [
        "running kernel 6.1.0-20-amd64, a reboot starts 6.1.0-22-amd64",
        "the package system asks for a reboot (for libc6, linux-image-6.1.0-22-amd64)"]
    assert all(r.state == State.WARN for r in found)


def test_after_the_reboot_the_same_host_is_ok() -> None:
    state = parse_reboot_needed(section("flag no", "kernel_running 6.1.0-22-amd64",
                                        "kernel_installed 6.1.0-20-amd64 6.1.0-22-amd64",
                                        "NEEDRESTART-VER: 3.6", "NEEDRESTART-KCUR: 6.1.0-22-amd64",
                                        "NEEDRESTART-KEXP: 6.1.0-22-amd64", "NEEDRESTART-KSTA: 1"))
    assert [(r.state, r.summary) for r in results(check_reboot_needed("", RebootParams(), state, {}, 0.0))] == [
        (State.OK, "no reboot needed; running the newest installed kernel 6.1.0-22-amd64")]


def test_real_needrestart_on_this_vm_with_an_unknown_kernel_and_current_microcode_is_ok() -> None:
    lines = (FIXTURES / "needrestart_b/debian12-vm-microcode.txt").read_text().splitlines()
    state = parse_reboot_needed(section("flag no", "kernel_running 6.18.44-fc-v657", *lines))
    assert not state.unread and state.kernel_status == 0 and state.microcode_status == 1
    found = results(check_reboot_needed("", RebootParams(), state, {}, 0.0))
    assert [(r.state, r.summary) for r in found] == [
        (State.OK, "no reboot needed; running kernel 6.18.44-fc-v657 (no installed kernel to compare it with)")]
    newer = parse_reboot_needed(section("kernel_running 6.1.0-22-amd64", "NEEDRESTART-UCSTA: 2",
                                        "NEEDRESTART-UCEXP: 0x0002"))
    assert [(r.state, r.summary) for r in results(check_reboot_needed("", RebootParams(), newer, {}, 0.0))] == [
        (State.WARN, "newer CPU microcode (0x0002) waits for a reboot")]


def test_a_needrestart_that_fails_is_unknown_for_services_not_silently_ok() -> None:
    state = parse_reboot_needed(section("flag no", "kernel_running 6.1.0-22-amd64",
                                        "needrestart_error needrestart exited with 1: must be run as root"))
    found = results(check_reboot_needed("", RebootParams(), state, {}, 0.0))
    assert found[0].state == State.UNKNOWN and "must be run as root" in found[0].summary


def test_a_section_without_any_kernel_is_unparsed() -> None:
    with pytest.raises(SectionUnparsed):
        parse_reboot_needed(section("flag no"))


@given(st.lists(st.text(max_size=300), max_size=30))
def test_any_lines_parse_or_are_unparsed_never_crash(lines: list[str]) -> None:
    try:
        state = parse_reboot_needed(section(*lines))
    except SectionUnparsed:
        return
    list(check_reboot_needed("", RebootParams(), state, {}, 0.0))
