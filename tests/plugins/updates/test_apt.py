"""`APT updates` from the real mk_apt plugin's `<<<apt>>>` (run with the Checkmk agent here):
security updates named and WARN, the rest told; apt's errors are not taken for "no updates"."""

from __future__ import annotations

import pytest

from tests.conftest import agent_section, results
from watchkeeper.checkapi import SectionUnparsed, State
from watchkeeper.plugins.updates.apt import AptParams, check_apt, parse_apt

DEGRADED = "checkmk-2.3.0b1-debian12-degraded.txt"


def test_the_real_pending_updates_with_their_security_archives() -> None:
    pending = parse_apt(agent_section(DEGRADED, "apt"))
    assert len(pending.updates) == 139
    security = [u for u in pending.updates if u.security]
    assert len(security) == 90
    libgcrypt = next(u for u in pending.updates if u.package == "libgcrypt20")
    assert (libgcrypt.installed, libgcrypt.candidate) == ("1.10.1-3", "1.10.1-3+deb12u1")
    assert libgcrypt.archives == ("Debian:12.15/oldstable", "Debian-Security:12/oldstable-security")
    found = results(check_apt("", AptParams(), pending, {}, 0.0))
    assert [r.state for r in found] == [State.WARN, State.OK]
    assert found[0].summary.startswith("90 security updates: libgcrypt20-dev, libgcrypt20, liblzma-dev")
    assert found[1].summary.startswith("49 other updates: base-files, bash")


def test_nothing_pending_and_apt_failing_are_told_apart() -> None:
    assert results(check_apt("", AptParams(), parse_apt([["No", "updates", "pending", "for", "installation"]]),
                             {}, 0.0))[0].summary == "no updates pending"
    failing = parse_apt([["E:", "Could", "not", "get", "lock", "/var/lib/dpkg/lock-frontend"]])
    assert results(check_apt("", AptParams(), failing, {}, 0.0))[0].state == State.UNKNOWN


def test_an_unknown_shape_is_unparsed_not_taken_for_no_updates() -> None:
    with pytest.raises(SectionUnparsed, match="no `Inst` line"):
        parse_apt([["Reading", "package", "lists..."]])
