"""`<<<vbox_guest>>>`: the agent sends the header on every host; empty means no VirtualBox guest."""

from __future__ import annotations

from tests.conftest import agent_section, results
from watchkeeper.checkapi import NoParams, State
from watchkeeper.plugins.virtualbox.guest import check_vbox_guest, parse_vbox_guest


def test_the_empty_section_of_a_real_agent_gives_no_service() -> None:
    assert parse_vbox_guest(agent_section("checkmk-2.3.0b1-debian12-degraded.txt", "vbox_guest")) is None


def test_guest_additions_older_than_the_host_warn_and_a_failing_tool_is_crit() -> None:
    table = [line.split() for line in ("Name: /VirtualBox/GuestAdd/Version, value: 6.1.22",
                                       "Name: /VirtualBox/HostInfo/VBoxVer, value: 6.1.26")]
    found = results(check_vbox_guest("", NoParams(), parse_vbox_guest(table) or {}, {}, 0.0))
    assert found[0].state == State.WARN and "versions differ" in found[0].summary
    assert results(check_vbox_guest("", NoParams(), parse_vbox_guest([["ERROR"]]) or {}, {}, 0.0))[0].state == \
           State.CRIT
