"""`APT updates` from the real mk_apt plugin's `<<<apt>>>` (run with the Checkmk agent here):
security updates named and WARN once they wait too long, the rest told; old package lists WARN;
apt's errors are not taken for "no updates"."""

from __future__ import annotations

import pytest

from tests.conftest import agent_section, fixtures, results
from watchkeeper.checkapi import SectionUnparsed, State, ValueStore
from watchkeeper.plugins.updates.apt import AptParams, PendingUpdates, check_apt, parse_apt

FIXTURES = fixtures(__file__)
NOW = 1_796_025_000.0
DAY = 86400.0
DEGRADED = "checkmk-2.3.0b1-debian12-degraded.txt"


def test_the_real_pending_updates_with_their_security_archives() -> None:
    pending = parse_apt(agent_section(DEGRADED, "apt"))
    assert len(pending.updates) == 139
    security = [u for u in pending.updates if u.security]
    assert len(security) == 90
    libgcrypt = next(u for u in pending.updates if u.package == "libgcrypt20")
    assert (libgcrypt.installed, libgcrypt.candidate) == ("1.10.1-3", "1.10.1-3+deb12u1")
    assert libgcrypt.archives == ("Debian:12.15/oldstable", "Debian-Security:12/oldstable-security")
    store: ValueStore = {}
    found = results(check_apt("", AptParams(), pending, store, NOW))
    assert [r.state for r in found] == [State.OK, State.OK]  # just seen: not late yet
    assert found[0].summary.startswith("90 security updates: libgcrypt20-dev, libgcrypt20, liblzma-dev")
    assert found[0].summary.endswith("the oldest waits 0.00 seconds")
    assert found[1].summary.startswith("49 other updates: base-files, bash")
    later = results(check_apt("", AptParams(), pending, store, NOW + 4 * DAY))
    assert later[0].state == State.WARN and later[0].summary.endswith("the oldest waits 4 days (more than 3 days)")


def test_the_wait_counts_from_when_each_update_appeared_and_forgets_installed_ones() -> None:
    pending = parse_apt(agent_section(DEGRADED, "apt"))
    store: ValueStore = {}
    list(check_apt("", AptParams(), pending, store, NOW))
    installed = PendingUpdates(updates=[u for u in pending.updates if u.package != "libgcrypt20"])
    list(check_apt("", AptParams(), installed, store, NOW + DAY))
    assert "pending.libgcrypt20" not in store
    assert store["installed.libgcrypt20"] == ["1.10.1-3+deb12u1", NOW + DAY]  # a canary for that version now
    again = PendingUpdates(updates=pending.updates)
    found = results(check_apt("", AptParams(security_wait_s=DAY), again, store, NOW + 1.5 * DAY))
    assert found[0].state == State.WARN  # the others waited 1.5 days; libgcrypt20 starts again at 0
    assert store["pending.libgcrypt20"] == ["1.10.1-3+deb12u1", True, NOW + 1.5 * DAY]
    assert "installed.libgcrypt20" not in store


def test_an_unchanged_list_is_remembered_without_rewriting_it_and_installed_versions_still_expire() -> None:
    pending = parse_apt(agent_section(DEGRADED, "apt"))
    store: ValueStore = {}
    list(check_apt("", AptParams(), pending, store, NOW))
    installed = PendingUpdates(updates=[u for u in pending.updates if u.package != "libgcrypt20"])
    list(check_apt("", AptParams(), installed, store, NOW + DAY))
    kept = dict(store)
    for minutes in range(1, 60):  # the same list every minute for an hour: the store is not touched
        found = results(check_apt("", AptParams(), installed, store, NOW + DAY + 60 * minutes))
    assert found[0].summary.endswith("the oldest waits 1 day")  # still counted from NOW
    assert store == kept
    # a month on, the same list: gone through again, and the canary of libgcrypt20 has expired
    found = results(check_apt("", AptParams(security_wait_s=DAY), installed, store, NOW + 32 * DAY))
    assert "installed.libgcrypt20" not in store
    assert found[0].state == State.WARN and found[0].summary.endswith("the oldest waits 32 days (more than 1 day)")


def test_a_failing_apt_does_not_make_every_pending_update_look_installed() -> None:
    store: ValueStore = {}
    list(check_apt("", AptParams(), parse_apt(agent_section(DEGRADED, "apt")), store, NOW))
    failing = parse_apt([["E:", "Could", "not", "get", "lock", "/var/lib/dpkg/lock-frontend"]])
    list(check_apt("", AptParams(), failing, store, NOW + DAY))
    assert not [key for key in store if key.startswith("installed.")]  # no false canaries for the patch plan
    assert "pending.libgcrypt20" in store


def test_package_lists_a_week_old_warn_instead_of_reading_as_nothing_pending() -> None:
    pending = parse_apt([["No updates pending for installation"], [f"ListsUpdated: {int(NOW - 9 * DAY)}"]])
    found = results(check_apt("", AptParams(), pending, {}, NOW))
    assert found[0].summary == "no updates pending"
    assert found[1].state == State.WARN and "last updated 9 days ago" in found[1].summary
    fresh = parse_apt([["No updates pending for installation"], [f"ListsUpdated: {int(NOW - DAY)}"]])
    assert [r.state for r in results(check_apt("", AptParams(), fresh, {}, NOW))] == [State.OK]


def test_the_real_quiet_upgrade_simulation_of_this_debian_12() -> None:
    pending = parse_apt([[line] for line in (FIXTURES / "apt_get_s_upgrade/debian12-qq.txt").read_text().splitlines()])
    assert pending.updates and not pending.errors
    assert any(u.security for u in pending.updates) and any(not u.security for u in pending.updates)


def test_nothing_pending_and_apt_failing_are_told_apart() -> None:
    assert results(check_apt("", AptParams(), parse_apt([["No", "updates", "pending", "for", "installation"]]),
                             {}, 0.0))[0].summary == "no updates pending"
    failing = parse_apt([["E:", "Could", "not", "get", "lock", "/var/lib/dpkg/lock-frontend"]])
    assert results(check_apt("", AptParams(), failing, {}, 0.0))[0].state == State.UNKNOWN


def test_an_unknown_shape_is_unparsed_not_taken_for_no_updates() -> None:
    with pytest.raises(SectionUnparsed, match="no `Inst` line"):
        parse_apt([["Reading", "package", "lists..."]])
