"""Plugins on a host over its one persistent SSH connection, against a real OpenSSH server on
127.0.0.1: the replacement for check_by_ssh."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.active.plugins import plugin
from tests.conftest import dies
from tests.sshd import SshServer, sshd, transport
from watchkeeper.active.execute import execute
from watchkeeper.active.verdict import outcome_of
from watchkeeper.checkapi import State
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.hosts import HostConfig

pytestmark = pytest.mark.slow
__all__ = ["sshd"]


async def test_many_plugins_share_one_login(sshd: SshServer, tmp_path: Path) -> None:
    logins = sshd.count("Accepted publickey")
    ssh = transport(sshd, tmp_path)
    argv = [[plugin("check_load"), "-w", "900,900,900", "-c", "999,999,999"],
            [plugin("check_disk"), "-w", "1%", "-c", "1%", "-p", "/"],
            [plugin("check_procs"), "-w", "1:", "-c", "1:"]] * 10
    try:
        runs = await asyncio.gather(*(ssh.run_plugin(a, 30.0, 65536) for a in argv))
    finally:
        await ssh.close()
    outcomes = [outcome_of("svc", run, 30.0) for run in runs]
    assert [o.state for o in outcomes] == [State.OK] * 30, [o.summary for o in outcomes if o.state]
    assert {m.name for o in outcomes for m in o.metrics} >= {"load1", "/_bytes", "procs"}
    assert ssh.connections_opened == 1
    sshd.wait_for_line("Accepted publickey", timeout=5)
    assert sshd.count("Accepted publickey") - logins == 1


async def test_exit_codes_and_perfdata_come_back_as_sent(sshd: SshServer, tmp_path: Path) -> None:
    ssh = transport(sshd, tmp_path)
    try:
        crit = outcome_of("svc", await ssh.run_plugin([plugin("check_dummy"), "2", "down|x=5ms"], 30.0, 65536), 30)
        gone = outcome_of("svc", await ssh.run_plugin(["/nonexistent/check_x"], 30.0, 65536), 30)
    finally:
        await ssh.close()
    assert (crit.state, crit.summary, crit.metrics[0].value) == (State.CRIT, "CRITICAL: down", 0.005)
    assert gone.state == State.UNKNOWN and "was not found on web1" in gone.summary


async def test_macro_values_with_shell_syntax_reach_the_plugin_verbatim(sshd: SshServer, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    ssh = transport(sshd, tmp_path)
    host = HostConfig("web1", f"ssh://127.0.0.1:{sshd.port}", options={"alias": f"$(touch {marker}); x"})
    check = ActiveCheck("web1", "Alias", (plugin("check_dummy"), "0", "$HOSTALIAS$ on $HOSTADDRESS$"), on="host")
    try:
        outcome = await execute(check, host, ssh)
    finally:
        await ssh.close()
    assert outcome.summary == f"OK: $(touch {marker}); x on 127.0.0.1"
    assert not marker.exists()


async def test_a_hung_remote_plugin_is_killed_there_with_its_children(sshd: SshServer, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = tmp_path / "hang"
    script.write_text(f"#!/bin/sh\nsleep 300 & echo $! > {pids}\necho $$ >> {pids}\nsleep 300\n")
    script.chmod(0o755)
    ssh = transport(sshd, tmp_path)
    try:
        outcome = outcome_of("svc", await ssh.run_plugin([str(script)], 1.0, 65536), 1.0)
        again = outcome_of("svc", await ssh.run_plugin([plugin("check_dummy"), "0", "still here"], 30.0, 65536), 30)
    finally:
        await ssh.close()
    assert outcome.state == State.UNKNOWN and "gave no result within 1 s" in outcome.summary
    for pid in map(int, pids.read_text().split()):
        assert dies(pid), f"process {pid} of the hung remote plugin is still running"
    assert again.summary == "OK: still here"  # the connection survived the timeout
    assert os.path.exists(pids)


async def test_a_check_on_the_host_of_a_tcp_agent_says_it_needs_ssh() -> None:
    host = HostConfig("db1", "tcp://127.0.0.1:6556")
    outcome = await execute(ActiveCheck("db1", "Load", ("check_load",), on="host"), host, None)
    assert outcome.state == State.UNKNOWN and "needs an ssh:// address; db1 is tcp://127.0.0.1:6556" in outcome.summary
