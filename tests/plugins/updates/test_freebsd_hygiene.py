"""FreeBSD's hygiene services: `FreeBSD updates`, `Vulnerable packages` and `Package updates` on
real freebsd-update, pkg audit and pkg version outputs, as the FreeBSD agent prints them from its
background cache (`made TIME MAX_AGE`, `exit N`, the output), and etcupdate's conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import results
from watchkeeper.checkapi import Pending, SectionUnparsed, State, StringTable
from watchkeeper.plugins.config_files.unmerged import UnmergedParams, check_config_unmerged, parse_config_unmerged
from watchkeeper.plugins.updates.freebsd_update import FreebsdUpdateParams, check_freebsd_update, parse_freebsd_update
from watchkeeper.plugins.updates.pkg_audit import AuditParams, check_pkg_audit, parse_pkg_audit
from watchkeeper.plugins.updates.pkg_version import PkgVersionParams, check_pkg_version, parse_pkg_version

OUTPUTS = Path(__file__).resolve().parents[2] / "agent_outputs" / "freebsd"
NOW = 1_790_000_000.0


def cached(relative: str, made: float = NOW - 600, max_age: int = 21600, code: int = 0) -> StringTable:
    return [[f"made {made:.0f} {max_age}"], [f"exit {code}"]] + [
        [line] for line in (OUTPUTS / relative).read_text().splitlines()]


def test_no_updates_needed_is_ok() -> None:
    section = parse_freebsd_update(cached("freebsd_update_fetch/rpi3b_131_p1_no_updates_with_time.txt"))
    found = results(check_freebsd_update("", FreebsdUpdateParams(), section, {}, NOW))
    assert [(r.state, r.summary) for r in found] == [(State.OK, "no base-system updates waiting")]


def test_updates_waiting_on_a_release_past_its_end_of_life() -> None:
    section = parse_freebsd_update(cached("freebsd_update_fetch/92_release_updates_and_eol.txt", code=1))
    found = results(check_freebsd_update("", FreebsdUpdateParams(), section, {}, NOW))
    assert [r.state for r in found] == [State.WARN, State.CRIT]
    assert found[0].summary == ("updates to 9.2-RELEASE-p17 are ready to install (4 added, 1 updated files): "
                                "run `freebsd-update install`")
    assert found[1].summary.startswith("FreeBSD 9.2-RELEASE-p15 has passed its end of life")


def test_the_first_run_is_pending_and_an_old_cache_is_said() -> None:
    pending = parse_freebsd_update([["made 0 21600"], ["watchkeeper-pending: the first run is under way"]])
    assert isinstance(next(iter(check_freebsd_update("", FreebsdUpdateParams(), pending, {}, NOW))), Pending)
    old = parse_freebsd_update(cached("freebsd_update_fetch/rpi3b_131_p1_no_updates_with_time.txt",
                                      made=NOW - 86400 * 3))
    found = results(check_freebsd_update("", FreebsdUpdateParams(), old, {}, NOW))
    assert found[0].state == State.WARN and "last ran 3 days ago" in found[0].summary


def test_a_failed_fetch_is_unknown_with_its_last_line() -> None:
    # freebsd-update.sh's words when no mirror answers
    section = parse_freebsd_update([["made 1789990000 21600"], ["exit 1"],
                                    ["Looking up update.FreeBSD.org mirrors... none found."],
                                    ["No mirrors remaining, giving up."]])
    found = results(check_freebsd_update("", FreebsdUpdateParams(), section, {}, NOW))
    assert (found[0].state, found[0].summary) == (State.UNKNOWN,
                                                   "freebsd-update fetch failed: No mirrors remaining, giving up.")


def test_a_section_without_its_made_line_is_unparsed() -> None:
    with pytest.raises(SectionUnparsed, match="made TIME MAX_AGE"):
        parse_freebsd_update([["No updates needed to update system to 13.1-RELEASE-p1."]])


def test_a_vulnerable_package_is_named_with_its_vuxml_entry() -> None:
    section = parse_pkg_audit(cached("pkg_audit/opnsense_131_one_vulnerable.txt", max_age=3600, code=1))
    found = results(check_pkg_audit("", AuditParams(), section, {}, NOW))
    assert [(r.state, r.summary) for r in found] == [
        (State.WARN, "vulnerable packages: 1 (warn/crit at 1/5)"), (State.OK, "py39-setuptools-63.1.0")]
    assert found[1].details == ("py39-setuptools-63.1.0: py39-setuptools -- denial of service vulnerability "
                                "(CVE-2022-40897) https://vuxml.freebsd.org/freebsd/"
                                "1b38aec4-4149-4c7d-851c-3c4de3a1fbd0.html")


def test_pkg_audit_that_could_not_fetch_the_database_is_unknown() -> None:
    section = parse_pkg_audit([["made 1789990000 3600"], ["exit 1"],
                               ["pkg: cannot open vulnxml file: No such file or directory"]])
    found = results(check_pkg_audit("", AuditParams(), section, {}, NOW))
    assert found[0].state == State.UNKNOWN and "cannot open vulnxml" in found[0].summary


def test_pkg_version_names_the_outdated_and_the_orphaned() -> None:
    section = parse_pkg_version(cached("pkg_version/vuls_mixed.txt"))
    assert [(o.package, o.available) for o in section.outdated] == [("bash-4.2.45", "4.3.42_1"),
                                                                    ("gettext-0.18.3.1", "0.19.7")]
    found = results(check_pkg_version("", PkgVersionParams(), section, {}, NOW))
    assert [(r.state, r.summary) for r in found] == [
        (State.OK, "2 packages have updates: bash-4.2.45, gettext-0.18.3.1"),
        (State.WARN, "1 packages are no longer in the repository and get no fixes: teTeX-base-3.0_25")]


def test_etcupdates_conflicts_are_warn_and_its_warnings_are_told() -> None:
    rows = [line.split("\t") for line in [
        *("conflict\t" + line.strip()[2:] for line in (OUTPUTS / "etcupdate_status/source_format_two_conflicts.txt")
          .read_text().splitlines() if line.startswith("  C ")),
        "warning\tNeeds update: /etc/mail/aliases.db (requires manual update via newaliases(1))",
        "scanned\t412\t-\t0"]]
    found = results(check_config_unmerged("", UnmergedParams(), parse_config_unmerged(rows), {}, NOW))
    assert [(r.state, r.summary) for r in found] == [
        (State.WARN, "etcupdate left 2 conflicts to resolve: /etc/rc.conf, /etc/ssh/sshd_config; "
                     "run `etcupdate resolve`"),
        (State.OK, "etcupdate asked for: Needs update: /etc/mail/aliases.db (requires manual update via "
                   "newaliases(1))")]
