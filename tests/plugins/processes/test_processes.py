"""Processes from the real Checkmk agents' `<<<ps_lnx>>>` (2.1, 2.3) and `<<<ps>>>` (1.4): the
same processes either way, `Process NAME` services only where a rule names them."""

from __future__ import annotations

from tests.conftest import CHECKMK_1_4, agent_section, results
from watchkeeper.checkapi import State
from watchkeeper.plugins.processes.processes import ProcessParams, check_process
from watchkeeper.plugins.processes.ps import parse_ps, parse_ps_lnx

DEGRADED = "checkmk-2.3.0b1-debian12-degraded.txt"


def test_ps_lnx_gives_users_pids_commands_memory_and_cgroups() -> None:
    processes = parse_ps_lnx(agent_section(DEGRADED, "ps_lnx"))
    assert processes is not None and len(processes) > 20
    init = next(p for p in processes.processes if p.pid == 1)
    assert (init.user, init.command) == ("root", "/sbin/init")
    chronyd = [p for p in processes.processes if p.command.startswith("chronyd ")]
    assert len(chronyd) == 2 and all(p.rss_kib > 0 for p in chronyd)
    assert any(p.cgroup == "/system.slice/ssh.service" or p.cgroup.endswith(":/system.slice/ssh.service")
               for p in processes.processes)


def test_the_old_ps_section_gives_the_same_shape() -> None:
    processes = parse_ps(agent_section(CHECKMK_1_4, "ps"))
    assert processes is not None
    kthreadd = next(p for p in processes.processes if p.pid == 2)
    assert (kthreadd.user, kthreadd.command) == ("root", "[kthreadd]")


def test_a_process_rule_counts_matches_and_judges_too_few_and_too_many() -> None:
    processes = parse_ps_lnx(agent_section(DEGRADED, "ps_lnx"))
    assert processes is not None
    two = results(check_process("chronyd", ProcessParams(pattern=r"^chronyd ", max_count=1), processes, {}, 0.0))
    assert State.worst(*(r.state for r in two)) != State.OK
    none = results(check_process("nginx", ProcessParams(), processes, {}, 0.0))
    assert none[0].state == State.CRIT
