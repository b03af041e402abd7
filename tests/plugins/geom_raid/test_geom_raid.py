"""gmirror and graid volumes, judged by the copies left, on the Handbook's outputs and geom's format."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import results
from watchkeeper.checkapi import NoParams, State
from watchkeeper.plugins.geom_raid.geom_raid import Volume, check_geom_raid, parse_geom_raid

OUTPUTS = Path(__file__).resolve().parents[2] / "agent_outputs" / "freebsd"


def volumes(marker: str, relative: str) -> dict[str, Volume]:
    return parse_geom_raid([[marker]] + [[line] for line in (OUTPUTS / relative).read_text().splitlines()])


def judge(section: dict[str, Volume], item: str) -> tuple[State, str]:
    found = results(check_geom_raid(item, NoParams(), section, {}, 0.0))
    return max(r.state for r in found), found[0].summary


def test_a_complete_mirror_is_ok() -> None:
    assert judge(volumes("[gmirror]", "gmirror_status/handbook_complete_two_active.txt"), "mirror/gm0") == (
        State.OK, "complete, 2 components with complete copies")


def test_a_mirror_whose_second_disk_is_still_synchronizing_has_no_redundancy() -> None:
    section = volumes("[gmirror]", "gmirror_status/source_format_degraded_synchronizing.txt")
    assert judge(section, "mirror/gm0") == (
        State.CRIT, "degraded: only ada1 holds a complete copy, no redundancy left (ada0 synchronizing 28.00%)")


def test_graid_optimal_and_rebuilding() -> None:
    assert judge(volumes("[graid]", "graid_status/handbook_optimal_mirror.txt"), "raid/r0")[0] == State.OK
    state, summary = judge(volumes("[graid]", "graid_status/handbook_degraded_rebuild_28pct.txt"), "raid/r0")
    assert state == State.CRIT and "ada1 active (rebuild) 28.00%" in summary


def test_a_three_way_mirror_that_lost_one_disk_can_lose_one_more() -> None:
    lines = (OUTPUTS / "gmirror_status/handbook_complete_two_active.txt").read_text().splitlines()
    lines[1] = lines[1].replace("COMPLETE", "DEGRADED")
    lines.append(lines[2].replace("ada0 (ACTIVE)", "ada2 (ACTIVE)"))
    section = parse_geom_raid([["[gmirror]"]] + [[line] for line in lines])
    assert judge(section, "mirror/gm0") == (State.WARN, "degraded: 3 complete copies, can lose 2 more")


def test_a_volume_that_is_no_longer_listed_is_crit() -> None:
    assert judge({}, "mirror/gm0")[0] == State.CRIT
