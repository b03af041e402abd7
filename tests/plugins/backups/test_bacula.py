"""Bacula through the agent's bconsole collector against a real director (tests/labs/bacula.py:
Debian's Bacula 9.6 with its storage and file daemons on loopback): a good backup, a job whose
client is down (CRIT with the director's own reason), a job into a full pool (waiting for an
appendable volume), a backup that suddenly shrinks, and the director stopped. The parser on real
Bareos outputs from public sources (fixtures/*/SOURCE.md) and on any input at all."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import missing, outcomes, results, run_after_discovery
from tests.labs.bacula import BaculaLab, unavailable
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import SectionUnparsed, State
from watchkeeper.cli.main import main
from watchkeeper.plugins.backups.bacula import Bacula, parse_bacula
from watchkeeper.plugins.backups.checks import JobParams, PoolParams, _past_runs, check_job, check_pool

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
    # the daemons, each asked by the director
    assert found["Bacula client lab-fd"].state == 0, found["Bacula client lab-fd"].summary
    dead_fd = found["Bacula client dead-fd"]
    assert dead_fd.state == 1
    assert "the director cannot reach it: Failed to connect to Client dead-fd." in dead_fd.summary
    assert found["Bacula storage LabStorage"].state == 0
    assert "answers the director, version 9.6.7" in found["Bacula storage LabStorage"].summary
    # the schedule: a daily job that ran now missed nothing, and the next run is said
    assert "last good backup" in good.summary and "Next scheduled run" in good.details

    # the same as a Nagios plugin: one line, exit code 2
    plugin = ["--home", str(lab.root.parent / "home"), "plugin", "bacula-jobs", "--bconsole", "/usr/sbin/bconsole",
              "--bconsole-config", str(lab.bconsole_conf)]
    assert main(plugin) == 2
    said = capsys.readouterr().out
    assert said.startswith("CRIT - 2 of 3 not OK: Backup BackupDeadClient: last run JobId 4 (Full "), said
    assert main([*plugin, "--item", "BackupGood"]) == 0
    assert capsys.readouterr().out.startswith("OK - all 1 OK | 'BackupGood backup_age_seconds'=")

    # the storage daemon killed: every job that writes to it would fail
    lab.stop("sd")
    storage = outcomes(collected(), now=time.time())["Bacula storage LabStorage"]
    assert storage.state == 2, storage.summary


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


SCHEDULED = FIXTURES / "lab" / "bacula-9.6-schedule-daemons-sd-stopped.agent.txt"


def scheduled_lab() -> Bacula:
    return parse_bacula([[line] for line in SCHEDULED.read_text().splitlines()[1:]])


def older(section: Bacula, hours: float) -> Bacula:
    """The same director output, as if every run had been `hours` earlier."""
    shift = hours * 3600
    section.jobs = [replace(job, start=job.start - shift if job.start else None,
                            end=job.end - shift if job.end else None) for job in section.jobs]
    return section


def job_outcome(section: Bacula, name: str) -> tuple[State, str, str]:
    out = list(check_job(name, JobParams(), section, {}, 0.0))
    found = results(out)
    return (max(result.state for result in found), ", ".join(r.summary for r in found if r.summary),
            "\n".join(r.details for r in found if r.details))


def test_the_schedule_is_read_with_its_runs_and_the_daemons_with_their_answers() -> None:
    section = scheduled_lab()
    assert section.clients == ["lab-fd", "dead-fd"] and section.storages == ["LabStorage", "SmallStorage"]
    daily = section.schedule["BackupGood"]
    assert len(daily) == 15
    assert all(later - earlier == 86400 for earlier, later in zip(daily[:-1], daily[1:], strict=True))
    assert section.now is not None and 0 < daily[0] - section.now < 86400
    weekdays = [time.gmtime(at).tm_wday for at in section.schedule["BackupSmallPool"]]
    assert 5 not in weekdays and 6 not in weekdays and len(weekdays) == 11
    assert section.pool_limits["Main"].capacity == 10 * 52428800 and not section.pool_limits["Main"].recycle
    assert section.daemons[("client", "dead-fd")].text == "Failed to connect to Client dead-fd."
    assert section.daemons[("storage", "LabStorage")].state == "timeout"


def test_a_good_run_after_the_last_scheduled_one_is_ok_and_says_when_the_next_is() -> None:
    state, summary, details = job_outcome(scheduled_lab(), "BackupGood")
    assert state is State.OK and "last good backup" in summary
    assert "Next scheduled run Tue 01-Dec 14:41 (in 11 hours 58 minutes)" in details


def test_one_missed_daily_run_warns_and_two_are_crit() -> None:
    state, summary, _ = job_outcome(older(scheduled_lab(), 36), "BackupGood")
    assert state is State.WARN
    assert "missed its scheduled run of Mon 30-Nov 14:41: last good backup 1 day 12 hours ago" in summary
    state, summary, _ = job_outcome(older(scheduled_lab(), 60), "BackupGood")
    assert state is State.CRIT
    assert "missed 2 scheduled runs since its last good backup 2 days 12 hours ago (the newest of them Mon 30-Nov" \
        in summary


def test_a_run_is_not_missed_before_its_grace_has_passed() -> None:
    # the newest scheduled run was 12 h ago: with a grace of 13 h it is not missed yet
    section = older(scheduled_lab(), 36)
    out = results(check_job("BackupGood", JobParams(schedule_grace_seconds=13 * 3600), section, {}, 0.0))
    assert max(result.state for result in out) is State.OK


def test_weekend_without_a_weekday_run_is_no_miss() -> None:
    # BackupSmallPool runs Monday to Friday: its runs of the last two weeks skip the weekend
    section = scheduled_lab()
    assert section.now is not None
    past = _past_runs(section.schedule["BackupSmallPool"], section.now)
    assert past is not None and len(past) == 10
    assert {time.gmtime(at).tm_wday for at in past} == {0, 1, 2, 3, 4}


def test_a_job_whose_schedule_does_not_repeat_weekly_is_judged_by_age() -> None:
    section = scheduled_lab()
    section.schedule["BackupGood"] = section.schedule["BackupGood"][:3]  # as a monthly schedule would leave it
    state, summary, details = job_outcome(older(section, 30), "BackupGood")
    assert state is State.WARN and "last good backup: 1 day 6 hours (warn/crit at 1 day 2 hours" in summary
    assert "Its schedule does not repeat weekly: its age is judged against age_seconds." in details


def test_daemons_answering_failing_and_silent() -> None:
    found = outcomes(SCHEDULED.read_bytes(), now=1796092921.0)
    lab_fd = found["Bacula client lab-fd"]
    assert lab_fd.state == 0 and lab_fd.summary == ("answers the director, version 9.6.7, "
                                                     "1 backup jobs, newest runs: 1 OK")
    dead = found["Bacula client dead-fd"]
    assert dead.state == 1
    assert dead.summary == ("the director cannot reach it: Failed to connect to Client dead-fd. (!), "
                            "1 backup jobs, newest runs: 0 OK, 1 failed (BackupDeadClient)")
    storage = found["Bacula storage LabStorage"]
    assert storage.state == 2 and "did not answer the director's status: no answer within 20.0s" in storage.summary
    main_pool = found["Backup pool Main"]
    assert "499.42 MiB left of 500.00 MiB (10 volumes of 50.00 MiB)" in main_pool.summary, main_pool.summary


def test_the_pool_forecast_says_when_no_byte_is_left() -> None:
    section = scheduled_lab()
    assert section.now is not None
    store: dict[str, Any] = {}
    volume = section.pools["Main"][0]
    for step in range(5 * 48 + 1):  # 50 MiB a day into a pool of 500 MiB, checked every half hour for 5 days
        grown = int(step * 50 * 1024 * 1024 / 48)
        section.pools["Main"] = [replace(volume, bytes=(volume.bytes or 0) + grown)]
        out = results(check_pool("Main", PoolParams(), section, store, section.now + step * 1800))
    summary = ", ".join(result.summary for result in out)
    assert "growing 50.00 MiB/day" in summary and "full in" in summary
    assert "full in: 4 days 23 hours" in summary
    assert max(result.state for result in out) is State.WARN, summary  # 250 MiB left: five days


def test_bareos_json_answers_read_as_their_text_would_be() -> None:
    section = parse_bacula(corpus("bareos_api_json_llist_jobs.txt"))
    assert section.defined == ["BackupClient1", "BackupCatalog", "RestoreFiles"]
    assert [(job.jobid, job.name, job.type, job.level, job.status, job.client, job.files) for job in section.jobs] == [
        (1, "BackupClient1", "B", "F", "T", "ting.dass-it-fd", 18), (2, "BackupClient1", "B", "I", "T",
                                                                    "ting.dass-it-fd", 0)]
    assert section.jobs[0].duration_s == 2.0 and section.unread == []
    assert "jobs" in section.asked


# `list volumes` and `llist pools` as Bareos' own test of its JSON mode expects them
# (systemtests/tests/python-bareos/test_list_command.py: volumes by pool name in lower case)
VOLUMES = """list volumes
{"jsonrpc": "2.0", "id": null, "result": {"volumes": {"full": [{"mediaid": "1", "volumename": "Full-0001",
 "volstatus": "Error", "enabled": "1", "volbytes": "1048576", "volfiles": "0", "volretention": "31536000",
 "recycle": "1", "slot": "0", "inchanger": "0", "mediatype": "File", "lastwritten": "2026-11-30 23:10:02",
 "storage": "File", "hasencryptionkey": "0"}]}}}
llist pools
{"jsonrpc": "2.0", "id": null, "result": {"pools": [{"poolid": "3", "name": "Full", "numvols": "1",
 "maxvols": "100", "maxvolbytes": "53687091200", "recycle": "1"}]}}"""


def test_bareos_json_volumes_keep_their_pool_names_case_from_the_pools() -> None:
    section = parse_bacula([[line] for line in VOLUMES.splitlines()])
    assert [(volume.name, volume.status, volume.bytes) for volume in section.pools["Full"]] == [
        ("Full-0001", "Error", 1048576)]
    assert section.pool_limits["Full"].recycle
    assert results(check_pool("Full", PoolParams(), section, {}, 0.0))[1].state is State.CRIT


def test_a_json_error_or_a_cut_answer_is_named_not_dropped() -> None:
    lines = ["llist jobs days=14", '{"jsonrpc": "2.0", "id": null, "error": {"message": "failed", "code": 1}}',
             "list volumes", '{"jsonrpc": "2.0", "result": {"volumes": {']
    section = parse_bacula([[line] for line in lines])
    assert section.unread == ["llist jobs: the director answered with an error: failed",
                              "list volumes: a JSON answer that does not end (42 bytes)"]


@given(st.lists(st.one_of(st.sampled_from(["llist jobs days=14", "list volumes", ".jobs type=B", "{", "}", "[",
                                           '{"result": {"jobs": [{"jobid": "1", "name": "x"}]}}',
                                           '{"result": {"volumes": {"a": [{"volumename": 5}]}}}',
                                           '{"result": {"volumes": [1, 2]}}', '{"error": "x"}',
                                           '{"result": {"pools": [{"name": null, "maxvols": "1e999"}]}}']),
                          st.text(max_size=50)), max_size=40))
def test_the_json_reader_never_raises(lines: list[str]) -> None:
    try:
        parse_bacula([[line] for line in lines])
    except SectionUnparsed:
        pass


def test_the_agent_asks_for_json_answers_only_when_told(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []

    def capture(argv: list[str], timeout_s: float = 10, input_text: str | None = None) -> tuple[str, str | None]:
        sent.append(input_text or "")
        return "", "stopped here"

    monkeypatch.setattr(agent, "run_capture", capture)
    agent._bacula_lines({"bconsole": "bconsole", "daemons": False})  # type: ignore[no-untyped-call]
    agent._bacula_lines({"bconsole": "bconsole", "api": "json"})  # type: ignore[no-untyped-call]
    text, json_mode = sent
    assert not text.startswith(".api") and ".storage\n" in text
    assert json_mode.startswith(".api json\n") and ".storages\n" in json_mode and "\n.storage\n" not in json_mode


def test_answers_not_read_warn_on_the_director() -> None:
    lines = ["status director", "lab-dir Version: 9.6.7 (10 December 2020)", "llist jobs days=14",
             '{"jsonrpc": "2.0", "id": null, "error": {"message": "failed", "code": 1}}']
    found = outcomes(("<<<bacula:sep(0)>>>\n" + "\n".join(lines) + "\n").encode())
    director = found["Bacula director"]
    assert director.state == 1
    assert "1 answers not read, first: llist jobs: the director answered with an error: failed" in director.summary


def test_a_backup_of_far_fewer_files_warns_even_when_its_bytes_look_usual() -> None:
    section = scheduled_lab()
    good = [job for job in section.jobs if job.name == "BackupGood"]
    section.jobs = [*(job for job in section.jobs if job.name != "BackupGood"), *good,
                    replace(good[-1], jobid=99, files=1)]  # the usual bytes, in one file instead of four
    _state, summary, _ = job_outcome(section, "BackupGood")
    assert "1 files are 25% of its usual 4: did its data or a mount go?" in summary
