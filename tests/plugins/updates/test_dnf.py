"""`DNF updates` on real dnf and yum outputs (Fedora 25 and 34 `check-update`, RHEL 7's
`updateinfo list security`): names, versions with epochs, security updates named by advisories."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, results
from watchkeeper.checkapi import SectionUnparsed, State, StringTable
from watchkeeper.plugins.updates.apt import AptParams, check_apt
from watchkeeper.plugins.updates.dnf import parse_dnf

FIXTURES = fixtures(__file__)


def section(check_update: str, security: str = "") -> StringTable:
    text = (FIXTURES / check_update).read_text()
    rows = [["[check-update]"], *([line] for line in text.splitlines())]
    if security:
        rows += [["[security]"], *([line] for line in (FIXTURES / security).read_text().splitlines())]
    return rows


def test_real_check_update_lists_with_epochs_and_two_architectures() -> None:
    pending = parse_dnf(section("dnf_check_update/fedora34-epochs.txt"))
    assert len(pending.updates) == 11 and not pending.errors
    autocorr = next(u for u in pending.updates if u.package == "autocorr-en")
    assert (autocorr.candidate, autocorr.archives) == ("1:7.1.3.2-1.fc34", ("updates",))
    assert [u.package for u in pending.updates].count("bluez-libs") == 2
    assert not any(u.security for u in pending.updates)


def test_an_advisory_makes_its_package_a_security_update() -> None:
    rows = [["[check-update]"], ["389-ds-base.x86_64     1.3.8.4-15.el7     rhel-7-server-rpms"],
            *section("dnf_check_update/fedora25-excerpt.txt")[1:],
            ["[security]"], *([line] for line in (FIXTURES / "yum_updateinfo_security/rhel7-all.txt").read_text()
                              .splitlines())]
    pending = parse_dnf(rows)
    security = [u for u in pending.updates if u.security]
    assert [u.package for u in security] == ["389-ds-base"]
    assert security[0].archives == ("rhel-7-server-rpms", "security advisory RHSA-2014:1031")
    found = results(check_apt("", AptParams(), pending, {}, 0.0))
    assert found[0].state == State.OK and found[0].summary.startswith("1 security updates: 389-ds-base")
    assert found[1].summary.startswith("10 other updates: PackageKit, PackageKit-glib, audit")


def test_a_long_name_wrapped_onto_two_lines_is_one_update() -> None:
    pending = parse_dnf([["[check-update]"], ["containernetworking-plugins-with-a-very-long-name.x86_64"],
                         ["                  1.0.0-0.1.rc1.fc34            updates"], ["[security]"]])
    assert [(u.package, u.candidate) for u in pending.updates] == [
        ("containernetworking-plugins-with-a-very-long-name", "1.0.0-0.1.rc1.fc34")]


def test_output_without_blocks_is_unparsed() -> None:
    try:
        parse_dnf([["bash.x86_64 1 updates"]])
    except SectionUnparsed:
        return
    raise AssertionError("parsed")


@given(st.lists(st.one_of(st.sampled_from(["[check-update]", "[security]", "Obsoleting Packages",
                                           "  RHSA-1:1 Important/Sec. x-1-2.el9.x86_64", "a.b 1 r", "long.name"]),
                          st.text(max_size=200)), max_size=40))
def test_any_lines_parse_or_are_unparsed_never_crash(lines: list[str]) -> None:
    try:
        pending = parse_dnf([[line] for line in lines])
    except SectionUnparsed:
        return
    list(check_apt("", AptParams(), pending, {}, 0.0))
