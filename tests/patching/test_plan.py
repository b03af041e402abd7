"""The patch plan's decisions, one factor at a time: urgency (security, exposure, waiting),
maturity (new and untried versions, canaries without problems), users and recovery."""

from __future__ import annotations

from watchkeeper.patching.plan import DAY, PATCH_NOW, WAIT, WINDOW, HostFacts, Pending, decide, plan

NOW = 1_796_025_000.0
OPENSSL = Pending("libssl3", "3.0.15-1~deb12u1", True, NOW - 4 * DAY)
TOOL = Pending("bash", "5.2.15-2+b13", False, NOW - 4 * DAY)


def test_an_exposed_host_with_a_tried_security_update_and_snapshots_is_patched_now() -> None:
    canary = HostFacts("canary", installed={"libssl3": ("3.0.15-1~deb12u1", NOW - 2 * DAY)})
    web = HostFacts("web1", labels={"exposure": "internet", "recovery": "snapshot"}, pending=(OPENSSL,))
    decision = decide(web, [web, canary], NOW)
    assert decision is not None and decision.decision == PATCH_NOW
    assert decision.reasons == ("1 security updates pending", "exposed to the internet (exposure=internet)",
                                "the oldest security update waits 4 days",
                                "all already running without a new problem on canary", "recovery by snapshot")


def test_a_canary_that_had_a_problem_after_installing_is_no_canary() -> None:
    fresh = Pending("libssl3", "3.0.15-1~deb12u1", True, NOW - 3600)
    sick = HostFacts("canary", installed={"libssl3": ("3.0.15-1~deb12u1", NOW - 1800)},
                     problems_since={"HTTP": NOW - 600})
    web = HostFacts("web1", labels={"recovery": "snapshot"}, pending=(fresh,))
    decision = decide(web, [web, sick], NOW)
    assert decision is not None and decision.decision == PATCH_NOW  # security urgency 2, risk 2 (untried)
    assert "new and untried anywhere yet: libssl3 3.0.15-1~deb12u1" in decision.reasons
    rebuilt = HostFacts("db1", labels={"recovery": "rebuild"}, pending=(fresh,))
    windowed = decide(rebuilt, [rebuilt, sick], NOW)
    assert windowed is not None and windowed.decision == WINDOW and "recovery by rebuild" in windowed.reasons


def test_only_ordinary_updates_wait_and_a_risky_host_waits_for_its_window() -> None:
    quiet = HostFacts("build1", labels={"recovery": "backup"}, pending=(TOOL,))
    decision = decide(quiet, [quiet], NOW)
    assert decision is not None and decision.decision == WAIT
    assert decision.reasons[0] == "only 1 non-security updates pending"
    many = HostFacts("mail1", labels={"users": "many", "recovery": "backup"}, pending=(TOOL,), next_window=NOW + DAY)
    assert decide(many, [many], NOW).decision == WAIT  # type: ignore[union-attr]  # risk 2: not yet a window
    fragile = HostFacts("nas1", labels={"users": "many", "recovery": "rebuild"}, pending=(TOOL,),
                        next_window=NOW + DAY)
    windowed = decide(fragile, [fragile], NOW)
    assert windowed is not None and windowed.decision == WINDOW and windowed.next_window == NOW + DAY


def test_hosts_without_pending_updates_are_not_in_the_plan_and_the_plan_is_ordered() -> None:
    hosts = [HostFacts("z", labels={"recovery": "snapshot"}, pending=(OPENSSL,)), HostFacts("idle"),
             HostFacts("a", labels={"recovery": "rebuild", "users": "many"}, pending=(TOOL,))]
    assert [(d.host, d.decision) for d in plan(hosts, NOW)] == [("z", PATCH_NOW), ("a", WINDOW)]
