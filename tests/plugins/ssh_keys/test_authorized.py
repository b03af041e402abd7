"""`SSH keys USER` on what the agent printed (fingerprints made by OpenSSH): a key removed since
discovery is named, and any rows parse without a crash."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, results
from watchkeeper.checkapi import State, StringTable
from watchkeeper.plugins.ssh_keys.authorized import (
    SshKeyParams,
    check_ssh_keys,
    discover_ssh_keys,
    parse_ssh_authorized_keys,
)

KEPT = fixtures(__file__) / "agent" / "three-users-one-with-options.txt"


def kept() -> StringTable:
    return [line.split("\t") for line in KEPT.read_text().splitlines()[1:]]


def test_a_key_removed_since_discovery_is_named_and_accepted_by_discovering_again() -> None:
    section = parse_ssh_authorized_keys(kept())
    services = {service.item: service for service in discover_ssh_keys(section)}
    assert sorted(services) == ["alice", "backup", "root"]  # alice: a file the agent could not read
    root = services["root"]
    accepted = str(root.facts["fingerprints"])
    gone = {"root": section["root"].__class__()}  # root's only key deleted
    found = results(check_ssh_keys("root", SshKeyParams(fingerprints=accepted), gone, {}, 0.0))
    assert found[0].state == State.WARN and found[0].summary == f"1 keys removed since discovery: {accepted}"
    (again,) = [s for s in discover_ssh_keys(gone) if s.item == "root"]
    assert results(check_ssh_keys("root", SshKeyParams(fingerprints=str(again.facts["fingerprints"])), gone, {},
                                  0.0))[0].summary == "0 keys as accepted"


@given(st.lists(st.lists(st.one_of(st.sampled_from(["root", "unreadable", "SHA256:x", "options", "-"]),
                                   st.text(max_size=300)), max_size=7), max_size=30),
       st.text(max_size=200))
def test_any_rows_parse_and_check_without_a_crash(table: StringTable, accepted: str) -> None:
    section = parse_ssh_authorized_keys(table)
    for service in discover_ssh_keys(section):
        list(check_ssh_keys(service.item, SshKeyParams(fingerprints=accepted), section, {}, 0.0))
