import logging
from pathlib import Path

from pytest import LogCaptureFixture

from tests.notify.harness import Harness
from watchkeeper.model.notifications import Acknowledgement, Downtime, NotificationRule
from watchkeeper.model.states import CRIT, OK, WARN


def test_a_hard_problem_is_told_once_after_the_bulk_window(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.minutes(2, disk=CRIT)
    assert h.lines() == []  # soft: two results
    h.minutes(1, disk=CRIT)  # hard now
    assert h.lines() == []  # in the bulk window
    h.minutes(10, disk=CRIT)
    assert h.lines() == ["CRIT h0 / disk (was OK): disk is 2"]
    h.minutes(3, disk=OK)
    assert h.lines()[1:] == ["OK h0 / disk (was CRIT): disk is 0"]


def test_a_problem_that_recovers_within_the_bulk_window_is_never_sent(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.minutes(3, disk=CRIT)
    h.minutes(5, disk=OK)
    assert h.lines() == []
    dropped = [row for row in h.tables.log(100) if row.status == "dropped"]
    assert len(dropped) == 2 and "recovered" in dropped[0].last_error


def test_problems_on_many_hosts_within_the_window_are_one_message(tmp_path: Path) -> None:
    h = Harness(tmp_path, hosts=5)
    for _ in range(3):
        for i in range(5):
            h.check(f"h{i}", disk=CRIT)
        h.now += 30.0
    h.now += 300.0
    messages = h.messages()
    assert len(messages) == 1
    assert messages[0]["subject"] == "5 problems on 5 hosts"
    assert len(messages[0]["events"]) == 5


def test_a_down_host_is_told_once_and_its_stale_services_not_at_all(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.minutes(2, disk=OK, cpu=OK)
    h.minutes(10, up=False, disk=OK, cpu=OK)
    assert h.lines() == ["DOWN h0 (was UP): no route to host"]
    h.minutes(5, disk=OK, cpu=OK)
    assert h.lines()[1:] == ["UP h0 (was DOWN): host UP"]


def test_a_problem_inside_a_downtime_is_told_when_the_downtime_ends(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.tables.add_downtime(Downtime(0, "h0", None, h.now, h.now + 1800, "", "UTC", "ann", "kernel update"))
    h.notifier.reload()
    h.minutes(29, disk=CRIT)
    assert h.lines() == []
    h.minutes(5, disk=CRIT)
    assert h.lines() == ["CRIT h0 / disk (was OK): disk is 2"]


def test_a_problem_that_ends_inside_a_downtime_is_never_told(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.tables.add_downtime(Downtime(0, "h0", "disk", h.now, h.now + 1800, "", "UTC", "ann", "disk swap"))
    h.notifier.reload()
    h.minutes(10, disk=CRIT)
    h.minutes(60, disk=OK)
    assert h.lines() == []


def test_a_downtime_starting_inside_a_told_problem_holds_the_recovery_until_it_ends(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.minutes(10, disk=CRIT)
    assert len(h.lines()) == 1
    h.tables.add_downtime(Downtime(0, "h0", None, h.now, h.now + 1200, "", "UTC", "ann", "repair"))
    h.notifier.reload()
    h.minutes(5, disk=CRIT)
    h.minutes(10, disk=OK)
    assert len(h.lines()) == 1
    h.minutes(10, disk=OK)
    assert h.lines()[1:] == ["OK h0 / disk (was CRIT): disk is 0"]


def test_an_acknowledged_problem_is_not_told_and_a_later_recovery_is_silent(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.minutes(3, disk=CRIT)
    h.tables.acknowledge(Acknowledgement("h0", "disk", CRIT, "ann", "on it", False, None, h.now))
    h.notifier.reload()
    h.minutes(30, disk=CRIT)
    h.minutes(5, disk=OK)
    assert h.lines() == []
    assert h.tables.acknowledgements() == {}  # ended by the recovery


def test_a_non_sticky_acknowledgement_ends_when_the_problem_changes(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.minutes(3, disk=WARN)
    h.tables.acknowledge(Acknowledgement("h0", "disk", WARN, "ann", "known", False, None, h.now))
    h.notifier.reload()
    h.minutes(5, disk=WARN)
    h.minutes(5, disk=CRIT)
    assert h.lines() == ["CRIT h0 / disk (was OK): disk is 2"]


def test_an_acknowledgement_that_expires_lets_the_problem_be_told(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.minutes(3, disk=CRIT)
    h.tables.acknowledge(Acknowledgement("h0", "disk", CRIT, "ann", "till lunch", True, h.now + 600, h.now))
    h.notifier.reload()
    h.minutes(9, disk=CRIT)
    assert h.lines() == []
    h.minutes(5, disk=CRIT)
    assert h.lines() == ["CRIT h0 / disk (was OK): disk is 2"]


def test_an_escalation_rule_tells_its_contact_only_after_its_delay(tmp_path: Path) -> None:
    h = Harness(tmp_path, rules=[NotificationRule(name="ops", contacts=("ops",)),
                                 NotificationRule(name="boss", contacts=("boss",), after_s=1800.0, bulk_s=0.0)])
    h.minutes(20, disk=CRIT)
    assert [row.contact for row in h.tables.log() if row.status == "pending"] == ["ops"]
    h.minutes(20, disk=CRIT)
    assert sorted(row.contact for row in h.tables.log() if row.status == "pending") == ["boss", "ops"]


def test_renotification_repeats_an_unacknowledged_problem(tmp_path: Path) -> None:
    h = Harness(tmp_path, rules=[NotificationRule(name="all", contacts=("ops",), renotify_s=3600.0, bulk_s=0.0)])
    h.minutes(3 * 60 + 10, disk=CRIT)
    assert h.lines() == ["CRIT h0 / disk (was OK): disk is 2"] + ["CRIT h0 / disk (still): disk is 2"] * 3


def test_a_suppress_rule_silences_known_benign_events(tmp_path: Path) -> None:
    h = Harness(tmp_path, rules=[NotificationRule(name="benign", services="Log *", summary_regex='rpc "logout"',
                                                  suppress=True),
                                 NotificationRule(name="all", contacts=("ops",))])
    h.minutes(10, summary='1 WARN: Unknown rpc "logout"', Log_libvirtd=WARN)
    assert h.lines() == []
    h.minutes(10, summary="1 CRIT: I/O error on vda", Log_libvirtd=CRIT)
    assert h.lines() == ["CRIT h0 / Log libvirtd (was OK): 1 CRIT: I/O error on vda"]


def test_a_time_period_defers_a_problem_until_it_opens(tmp_path: Path) -> None:
    h = Harness(tmp_path, rules=[NotificationRule(name="office", contacts=("ops",), period="daily 00:00-00:01",
                                                  bulk_s=0.0)])
    h.now = h.now - h.now % 86400 + 3600  # 01:00 UTC
    h.minutes(60, disk=CRIT)
    assert h.lines() == []
    h.minutes(23 * 60, disk=CRIT)
    assert h.lines() == ["CRIT h0 / disk (was OK): disk is 2"]


def test_low_priority_warnings_go_to_one_daily_digest(tmp_path: Path) -> None:
    h = Harness(tmp_path, hosts=3, rules=[NotificationRule(name="digest", service_regex="updates", states=("WARN",),
                                                           contacts=("ops",), digest_at="07:00", stop=True),
                                          NotificationRule(name="rest", contacts=("ops",))])
    h.now = h.now - h.now % 86400 + 8 * 3600  # 08:00 UTC
    for _ in range(24 * 60):
        for i in range(3):
            h.check(f"h{i}", APT_updates=WARN)
        h.now += 60.0
    messages = h.messages()
    assert [m["subject"] for m in messages] == ["Daily digest: 3 problems on 3 hosts"]


def test_a_flapping_service_is_told_once_that_it_flaps_and_once_that_it_settled(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    for _ in range(30):  # down for three minutes, up for one
        h.minutes(3, eth0=CRIT)
        h.minutes(1, eth0=OK)
    h.minutes(60, eth0=OK)
    messages = h.messages()
    kinds = [event["kind"] for message in messages for event in message["events"]]
    assert kinds.count("FLAPPING_START") == 1 and kinds.count("FLAPPING_STOP") == 1
    assert len(messages) <= 3  # 30 flaps: the one before detection, flapping, settled
    assert "FLAPPING h0 / eth0\n    flapping: 6 state changes in the last 20 checks, weighted" in messages[0]["text"]
    assert "its state changes are not notified until it settles" in messages[0]["text"]


def test_a_restarted_notifier_does_not_tell_again(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.minutes(10, disk=CRIT)
    assert len(h.lines()) == 1
    h.restart()
    h.minutes(10, disk=CRIT)
    assert len(h.lines()) == 1
    h.minutes(5, disk=OK)
    assert len(h.lines()) == 2


def test_the_dry_run_explains_rule_by_rule(tmp_path: Path) -> None:
    h = Harness(tmp_path, labels={"role": "storage"},
                rules=[NotificationRule(name="storage", labels={"role": "storage"}, states=("CRIT",),
                                        contacts=("boss",)),
                       NotificationRule(name="web", hosts="web*", contacts=("ops",))])
    lines = h.notifier.explain("h0", "disk", CRIT, "98% used", h.now)
    assert lines[0] == "h0 / disk becomes CRIT: 98% used"
    assert lines[1].startswith("rule 1 (storage): notifies boss in one message")
    assert "rule 2 (web): does not match: host h0 does not match 'web*'" in lines
    warn = h.notifier.explain("h0", "disk", WARN, "", h.now)
    assert "rule 1 (storage): matches, but state WARN is not in its states (CRIT)" in warn
    assert warn[-1] == "nobody is notified"


def test_a_problem_that_recovers_within_the_grace_period_is_never_sent(tmp_path: Path) -> None:
    h = Harness(tmp_path, rules=[NotificationRule(name="patient", contacts=("ops",), grace_s=600.0, bulk_s=0.0)])
    h.minutes(9, disk=CRIT)  # hard after 3, recovered 6 minutes later
    h.minutes(20, disk=OK)
    assert h.lines() == []
    h.minutes(15, disk=CRIT)
    assert h.lines() == ["CRIT h0 / disk (was OK): disk is 2"]


def test_a_weekly_downtime_holds_across_the_spring_forward_night(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.tables.add_downtime(Downtime(0, "h0", None, 0.0, float("inf"), "sun 02:00-04:00", "Europe/Berlin", "ops",
                                   "weekly reboots"))
    h.notifier.reload()
    h.now = 1_774_746_000.0  # 2026-03-29 01:00 UTC = 03:00 CEST, the clock has just jumped
    h.minutes(55, up=False, disk=OK)
    assert h.lines() == []  # down inside the (one-hour) window
    h.minutes(10, up=False, disk=OK)
    assert h.lines() == ["DOWN h0 (was UP): no route to host"]  # 04:00 CEST: the window is over


def test_each_hard_state_change_is_one_line_in_the_daemons_log(tmp_path: Path, caplog: LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="watchkeeper.notify.notifier")
    h = Harness(tmp_path)
    h.minutes(3, disk=CRIT)
    h.minutes(2, disk=OK)
    h.minutes(3, up=False)
    changes = [r.getMessage() for r in caplog.records if " -> " in r.getMessage()]
    assert changes == ["h0 disk: OK -> CRIT: disk is 2", "h0 disk: CRIT -> OK: disk is 0",
                       "h0 (host): UP -> DOWN: no route to host"]
