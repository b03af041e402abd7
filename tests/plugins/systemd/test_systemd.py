"""`Systemd units` from the Checkmk agent's `<<<systemd_units>>>`: the old terminal layout with
`●` (a real `systemctl --failed` from a public bug report), the plain layout, and the real
capture of a container where systemd is not PID 1 (no `[all]`: no service)."""

from __future__ import annotations

from tests.conftest import CHECKMK_2_3_CONTAINER, agent_section, fixtures, results
from watchkeeper.checkapi import State
from watchkeeper.plugins.systemd.units import SystemdParams, check_systemd_units, parse_systemd_units

WSL = fixtures(__file__) / "systemctl_all" / "wsl_issue_12597_failed_excerpt.txt"


def old_agent_section() -> list[list[str]]:
    """What a Checkmk agent before 2.1 sends: `systemctl --all` under `[all]`, split at spaces."""
    return [["[list-unit-files]"], ["[status]"], ["[all]"], *(line.split() for line in WSL.read_text().splitlines())]


def test_failed_units_of_the_terminal_layout_are_crit_with_their_names() -> None:
    units = parse_systemd_units(old_agent_section())
    assert units is not None and len(units) == 14
    assert units["getty@tty1.service"].description == "Getty on tty1"
    found = results(check_systemd_units("", SystemdParams(), units, {}, 0.0))
    assert found[0].state == State.CRIT
    assert found[0].summary.startswith("14 units, 14 failed: dev-hugepages.mount, dev-mqueue.mount")
    assert "getty@tty1.service: Getty on tty1 (loaded, failed)" in found[0].details


def test_accepted_failures_are_left_out() -> None:
    units = parse_systemd_units(old_agent_section())
    assert units is not None
    accepted = SystemdParams(ignore=tuple(name for name in units if name != "lxcfs.service"))
    found = results(check_systemd_units("", accepted, units, {}, 0.0))
    assert found[0].summary == "14 units, 1 failed: lxcfs.service"


def test_the_plain_layout_of_newer_agents() -> None:
    table = [["[all]"], "cron.service loaded active running Regular background program processing daemon".split(),
             "backup.service loaded failed failed Nightly backup".split()]
    units = parse_systemd_units(table)
    assert units is not None
    assert results(check_systemd_units("", SystemdParams(), units, {}, 0.0))[0].summary == \
           "2 units, 1 failed: backup.service"


def test_a_container_without_systemd_as_init_gives_no_service() -> None:
    assert parse_systemd_units(agent_section(CHECKMK_2_3_CONTAINER, "systemd_units")) is None
