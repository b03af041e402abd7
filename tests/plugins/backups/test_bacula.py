"""Bacula through the agent's bconsole collector against a real director (tests/labs/bacula.py:
Debian's Bacula 9.6 with its storage and file daemons on loopback): a good backup, a job whose
client is down (CRIT with the director's own reason), a job into a full pool (waiting for an
appendable volume), a backup that suddenly shrinks, and the director stopped. The parser on real
Bareos outputs from public sources (fixtures/*/SOURCE.md) and on any input at all."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import missing, outcomes, run_after_discovery
from tests.labs.bacula import BaculaLab, unavailable
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import SectionUnparsed
from watchkeeper.cli.main import main
from watchkeeper.plugins.backups.bacula import parse_bacula

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BaculaLab]:
    reason = unavailable()
    if reason is not None:
        missing(reason)
    with BaculaLab(tmp_path / "bacula") as running:
        monkeypatch.setitem(agent.CONFIG, "bacula", {"config": str(running.bconsole_conf), "interval_s": 0,
                                                     "bconsole": "/usr/sbin/bconsole"})
        yield running


def collected() -> bytes:
    out: list[str] = []
    agent.backup_bacula(out)  # type: ignore[no-untyped-call]
    return ("\n".join(out) + "\n").encode()


def wait_for(lab: BaculaLab, text: str) -> None:
    deadline = time.monotonic() + 60
    while text not in lab.console("status director"):
        assert time.monotonic() < deadline, f"the director never said {text!r}"
        time.sleep(0.2)  # polling the director, not synchronising with it


@pytest.mark.slow
def test_good_failed_and_waiting_jobs_as_the_real_director_reports_them(lab: BaculaLab,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(3):
        lab.run_job("BackupGood")
    lab.run_job("BackupDeadClient")
    lab.run_job("BackupSmallPool", wait=False)
    wait_for(lab, "is waiting for an appendable Volume")
    found = outcomes(collected(), now=time.time())
    good = found["Backup BackupGood"]
    assert good.state == 0 and good.summary.startswith("last run Full OK "), good.summary
    assert "Full wrote 197.36 KiB, 4 files" in good.summary  # 202,100 bytes: the lab's two files
    dead = found["Backup BackupDeadClient"]
    assert dead.state == 2
    assert "failed: Fatal error: Unable to connect to Client: dead-fd on 127.0.0.1:" in dead.summary
    assert "ERR=Connection refused" in dead.summary
    small = found["Backup BackupSmallPool"]
    assert small.state == 2 and "waiting for an appendable Volume" in small.summary
    assert found["Backup pool Small"].state == 1 and "1 Full" in found["Backup pool Small"].summary
    assert found["Backup pool Main"].state == 0 and "1 Append" in found["Backup pool Main"].summary
    director = found["Bacula director"]
    assert director.state == 1 and "version 9.6.7, 1 jobs running" in director.summary
    assert "waiting: BackupSmallPool is waiting for an appendable Volume" in director.summary
    assert found["Agent"].state == 0, found["Agent"].summary

    # the same as a Nagios plugin: one line, exit code 2
    plugin = ["--home", str(lab.root.parent / "home"), "plugin", "bacula-jobs", "--bconsole", "/usr/sbin/bconsole",
              "--bconsole-config", str(lab.bconsole_conf)]
    assert main(plugin) == 2
    said = capsys.readouterr().out
    assert said.startswith("CRIT - 2 of 3 not OK: Backup BackupDeadClient: last run JobId 4 (Full "), said
    assert main([*plugin, "--item", "BackupGood"]) == 0
    assert capsys.readouterr().out.startswith("OK - all 1 OK | 'BackupGood backup_age_seconds'=")


@pytest.mark.slow
def test_a_backup_that_suddenly_shrinks_warns(lab: BaculaLab) -> None:
    for _ in range(3):
        lab.run_job("BackupGood")
    (lab.root / "data" / "sub" / "b.bin").unlink()  # the big file gone: a mount that failed, say
    lab.run_job("BackupGood")
    good = outcomes(collected(), now=time.time())["Backup BackupGood"]
    assert good.state == 1, good.summary
    assert "is 1% of its usual 197.36 KiB: did its data or a mount go?" in good.summary


@pytest.fixture
def fresh_agent_state() -> Iterator[Path]:
    """No cached answer before, and no "a director ran here" mark left for later tests."""
    state = Path(agent._state_dir())  # type: ignore[no-untyped-call]
    kept = [state / "cache" / "bacula.json", state / "bacula-director-seen"]
    for path in kept:
        path.unlink(missing_ok=True)
    yield state
    for path in kept:
        path.unlink(missing_ok=True)


@pytest.mark.slow
def test_a_director_found_here_that_stops_is_crit_and_its_jobs_unknown_never_ok(
        lab: BaculaLab, monkeypatch: pytest.MonkeyPatch, fresh_agent_state: Path) -> None:
    monkeypatch.delitem(agent.CONFIG, "bacula")  # found, not configured: bconsole, its config, a director running
    monkeypatch.setattr(agent, "BACULA_CONFIGS", (str(lab.bconsole_conf),))
    monkeypatch.setenv("PATH", "/usr/sbin:" + os.environ.get("PATH", ""))
    lab.run_job("BackupGood")
    before = collected()
    assert outcomes(before)["Backup BackupGood"].state == 0
    lab.stop("dir")
    (fresh_agent_state / "cache" / "bacula.json").unlink()  # kept five minutes otherwise
    down = collected()  # still asked: a director ran here; bconsole tries for about 15 s, then gives up
    found = outcomes(down, now=time.time())
    assert found["Bacula director"].state == 2
    assert "the director was not asked: bconsole exited with 1: Connecting to Director 127.0.0.1:" \
        in found["Bacula director"].summary
    after = run_after_discovery(before, down)
    assert after["Backup BackupGood"].state == 3
    assert "the director's jobs were not read: bconsole exited with 1" in after["Backup BackupGood"].summary


def corpus(name: str) -> list[list[str]]:
    return [[line] for line in (FIXTURES / "corpus" / name).read_text().splitlines()]


def test_bareos_list_jobs_status_and_messages_read_as_written() -> None:
    jobs = parse_bacula(corpus("bareos1912_list_jobs_two_ok.txt")).jobs
    assert [(job.jobid, job.name, job.type, job.status, job.files, job.bytes) for job in jobs] == [
        (1, "backup-bareos-fd", "B", "T", 21, 138399), (2, "RestoreFiles", "R", "T", 21, 138399)]
    status = parse_bacula(corpus("bareos1825_status_director_terminated_error.txt"))
    assert status.version == "18.2.5" and status.running == {}
    messages = parse_bacula(corpus("bareos1825_messages_fatal_sd_unreachable.txt"))
    assert messages.reasons == {5: "Fatal error: Failed to connect to Storage daemon: fred-Vostro-2420:9103"}


def test_the_lab_capture_reads_as_the_director_said() -> None:
    raw = (FIXTURES / "lab" / "bacula-9.6-good-dead-client-full-pool.agent.txt").read_text().splitlines()[1:]
    section = parse_bacula([[line] for line in raw])
    assert section.defined == ["BackupGood", "BackupDeadClient", "BackupSmallPool"]
    assert [(job.jobid, job.status) for job in section.jobs] == [(1, "T"), (2, "T"), (3, "T"), (4, "f"), (5, "R")]
    assert section.running == {5: "is waiting for an appendable Volume"}
    assert [(v.name, v.status, v.bytes) for v in section.pools["Small"]] == [("Small-0002", "Full", 64728)]
    assert section.reasons[4].startswith("Fatal error: Unable to connect to Client: dead-fd on 127.0.0.1:")


def test_output_that_is_no_bconsole_session_is_said_to_be_unreadable() -> None:
    with pytest.raises(SectionUnparsed, match="no bconsole command's answer"):
        parse_bacula([["Connecting to Director 127.0.0.1:9101"]])


@given(st.lists(st.one_of(st.sampled_from(["llist jobs days=14", "status director", "list volumes", "Pool: Main",
                                           "JobId: 99999999999999999999999", "list joblog jobid=1", "Running Jobs:",
                                           "| a | b |", "+---+", "JobStatus: f", "Name: x", "messages"]),
                          st.text(max_size=200)), max_size=60))
def test_the_parser_reads_any_lines_or_says_it_cannot(lines: list[str]) -> None:
    try:
        parse_bacula([[line] for line in lines])
    except SectionUnparsed:
        pass


def test_a_running_jobs_status_is_read_whatever_it_ends_in() -> None:
    raw = (FIXTURES / "lab" / "bacula-9.6-good-dead-client-full-pool.agent.txt").read_text()
    changed = raw.replace("is waiting for an appendable Volume", 'is waiting on Storage "SmallStorage":')
    section = parse_bacula([[line] for line in changed.splitlines()[1:]])
    assert section.running == {5: 'is waiting on Storage "SmallStorage":'}
