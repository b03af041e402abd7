"""Checkmk agents work unchanged: the real agents' output (run on this machine, see
tests/agent_outputs/*.source.md) becomes the services a Checkmk user expects, every section
is interpreted, and a degraded md mirror and degraded pools are CRIT with the failed devices
named."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO, agent_output, outcomes
from watchkeeper.checkapi import State
from watchkeeper.model.cycles import AGENT_SERVICE, Outcome
from watchkeeper.model.rules import Rule

CHECKMK_OUTPUTS = ["checkmk-1.4.0i2-debian12.txt", "checkmk-2.1.0i1-debian12-host.txt",
                   "checkmk-2.3.0b1-debian12-container.txt", "checkmk-2.3.0b1-debian12-container-plugins.txt",
                   "checkmk-2.3.0b1-debian12-degraded.txt"]


def cycle(name: str, rules: list[Rule] | None = None) -> dict[str, Outcome]:
    return outcomes(agent_output(name).read_bytes(), rules or [])


@pytest.mark.parametrize("name", CHECKMK_OUTPUTS)
def test_every_section_of_a_real_checkmk_agent_is_interpreted(name: str) -> None:
    agent = cycle(name)[AGENT_SERVICE]
    assert agent.state == State.OK, agent.summary
    assert "not interpreted" not in agent.summary, agent.details


def test_the_degraded_host_is_crit_naming_the_failed_md_member_and_pool_devices() -> None:
    result = cycle("checkmk-2.3.0b1-debian12-degraded.txt")
    assert result["MD RAID md1"].state == State.CRIT
    assert result["MD RAID md1"].summary.startswith("degraded [2/1] [U_]: sdb3 failed, no redundancy left")
    assert result["MD RAID md0"].state == State.OK
    assert result["ZFS pool tank"].state == State.CRIT
    assert "/tmp/cmk/vdev/d2 OFFLINE; no redundancy left in mirror-0" in result["ZFS pool tank"].summary
    assert result["ZFS pool vault"].state == State.WARN
    assert "/tmp/cmk/vdev/d4 OFFLINE; raidz2-0 can lose 1 more" in result["ZFS pool vault"].summary
    assert result["ZFS pool scratch"].state == State.OK  # healthy, known only from `zpool list`


def test_the_services_a_checkmk_user_expects_are_there() -> None:
    result = cycle("checkmk-2.3.0b1-debian12-degraded.txt")
    expected = {"OS", "CPU load", "CPU utilization", "Memory", "Filesystem /", "Inodes /", "Mount options /",
                "Disk IO vda", "Interface eth0", "Uptime", "Processes", "TCP connections", "Time sync",
                "APT updates", "Log /var/log/dpkg.log", "Local checks", "Nightly rsync", "Tape_library",
                "Spool usage", "Load", "Root_disk", "Nothing_listens", "MD RAID md0", "MD RAID md1",
                "ZFS pool tank", "ZFS pool vault", "ZFS pool scratch"}
    assert expected <= set(result), sorted(expected - set(result))
    assert result["Time sync"].summary.startswith("chrony synchronised to 127.0.0.1")
    updates = result["APT updates"]  # first seen now: security updates warn after waiting three days
    assert updates.state == State.OK and "90 security updates" in updates.summary and "the oldest waits" in (
        updates.summary)
    assert result["Log /var/log/dpkg.log"].state == State.WARN
    assert result["Tape_library"].state == State.CRIT and result["Nothing_listens"].state == State.CRIT
    assert result["Spool usage"].state == State.WARN  # P: 82 against levels 80/90


def test_container_mode_gives_memory_and_cpu_of_the_container() -> None:
    result = cycle("checkmk-2.3.0b1-debian12-container-plugins.txt")
    assert result["Memory"].state == State.OK and result["Memory"].summary.startswith("RAM used:")
    assert result["CPU utilization"].state == -1  # a first sample: pending, not missing


def test_a_process_named_by_a_rule_is_counted_and_missing_is_crit() -> None:
    rules = [Rule(1, "process", "*", "chronyd", {"pattern": r"^chronyd ", "min_count": 2}, ""),
             Rule(2, "process", "*", "postgres", {}, "")]
    result = cycle("checkmk-2.3.0b1-debian12-degraded.txt", rules)
    assert result["Process chronyd"].state == State.OK
    assert result["Process chronyd"].summary == "2 processes match '^chronyd '"
    assert result["Process postgres"].state == State.CRIT
    assert "at least 1 expected" in result["Process postgres"].summary


def test_watchkeeper_check_on_the_degraded_checkmk_output_exits_crit() -> None:
    done = subprocess.run([sys.executable, "-m", "watchkeeper.cli.main", "check", "--from-file",
                           str(agent_output("checkmk-2.3.0b1-debian12-degraded.txt"))],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "sdb3 failed" in done.stdout and "/tmp/cmk/vdev/d2 OFFLINE" in done.stdout
