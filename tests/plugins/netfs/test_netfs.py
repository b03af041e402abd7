"""Network mounts from the real Checkmk agents' `section_nfs_mounts`: answering, hanging, not
readable, with a space or a `"` in the mount point; the 2.1 text lines and the 2.3 JSON lines
give the same mounts."""

from __future__ import annotations

import pytest

from tests.conftest import fixtures, outcomes, results
from watchkeeper.checkapi import Fixed, State
from watchkeeper.collect.sections import split_sections
from watchkeeper.model.cycles import AGENT_SERVICE
from watchkeeper.plugins.netfs.checks import NetworkMountParams, check_mount
from watchkeeper.plugins.netfs.mounts import parse_mounts_text, parse_nfsmounts_v2

AGENT = fixtures(__file__) / "checkmk_agent"
V23 = (AGENT / "agent_2.3.0b1_nfsmounts_v2_cifsmounts.txt").read_bytes()
V21 = (AGENT / "agent_2.1.0i1_nfsmounts_cifsmounts.txt").read_bytes()
POINTS = ["/tmp/netfs/data", "/tmp/netfs/with space", '/tmp/netfs/q"uote', "/tmp/cmk/mnt-tank"]


def test_the_json_lines_and_the_text_lines_give_the_same_nfs_mounts() -> None:
    v2 = parse_nfsmounts_v2(split_sections(V23).sections["nfsmounts_v2"])
    text = parse_mounts_text(split_sections(V21).sections["nfsmounts"])
    assert list(v2.mounts) == list(text.mounts) == POINTS
    assert v2.unread == text.unread == []
    assert [m.state for m in v2.mounts.values()] == [m.state for m in text.mounts.values()] == \
           ["ok", "ok", "ok", "hanging"]
    assert v2.mounts["/tmp/netfs/data"].size_bytes == 66053021 * 4096
    assert v2.mounts['/tmp/netfs/q"uote'].source == "nas:/export/odd"  # read by the template's shape


@pytest.mark.parametrize("raw", [V23, V21], ids=["2.3.0b1", "2.1.0i1"])
def test_a_hanging_mount_is_crit_and_one_the_agent_cannot_read_is_named(raw: bytes) -> None:
    seen = outcomes(raw)
    assert seen["NFS mount /tmp/netfs/data"].state == State.OK
    assert seen["NFS mount /tmp/netfs/with space"].state == State.OK
    assert seen["NFS mount /tmp/cmk/mnt-tank"].state == State.CRIT
    assert seen["NFS mount /tmp/cmk/mnt-tank"].summary.startswith("hanging: the server does not answer")
    assert seen["CIFS mount /tmp/cmk/mnt-vault"].state == State.CRIT
    assert seen["CIFS mount /tmp/netfs/private"].state == State.UNKNOWN
    assert seen["CIFS mount /tmp/netfs/private"].summary.startswith("the agent may not read the mount point")
    assert seen[AGENT_SERVICE].state == State.OK, seen[AGENT_SERVICE].summary


def test_a_mount_that_is_gone_is_crit_and_the_fill_is_judged_only_by_a_rule() -> None:
    mounts = parse_nfsmounts_v2(split_sections(V23).sections["nfsmounts_v2"])
    gone = results(check_mount("/mnt/old", NetworkMountParams(), mounts, {}, 0.0))
    assert gone[0].state == State.CRIT and "not mounted any more" in gone[0].summary
    told = results(check_mount("/tmp/netfs/data", NetworkMountParams(), mounts, {}, 0.0))
    assert State.worst(*(r.state for r in told)) == State.OK and "used: 68.80%" in " ".join(r.summary for r in told)
    levels = NetworkMountParams(used_percent=Fixed(50.0, 60.0))
    judged = results(check_mount("/tmp/netfs/data", levels, mounts, {}, 0.0))
    assert State.worst(*(r.state for r in judged)) == State.CRIT


def test_lines_that_are_no_mount_are_named_on_the_agent_service() -> None:
    raw = V23.replace(b"<<<cifsmounts>>>", b"{\"mountpoint\": 5}\nnot json at all\n<<<cifsmounts>>>\n/x maybe 1 2 3 4")
    seen = outcomes(raw)
    agent = seen[AGENT_SERVICE]
    assert agent.state == State.WARN
    assert "<<<nfsmounts_v2>>>: 2 lines not understood, the first: not a mount in JSON" in agent.summary
    assert "<<<cifsmounts>>>: 1 line not understood" in agent.summary
