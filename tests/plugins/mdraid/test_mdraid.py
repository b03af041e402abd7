"""MD RAID checks on real /proc/mdstat contents from public bug reports and fixtures
(fixtures/mdstat, each with its source beside it)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures
from watchkeeper.checkapi import NoParams
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.checking import collapse
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.mdraid.arrays import md_arrays
from watchkeeper.plugins.mdraid.mdstat import Array, parse_mdstat

DATA = fixtures(__file__) / "mdstat"


def mdstat(name: str) -> dict[str, Array]:
    """As the agent sends it: /proc/mdstat after the section header, through the real splitter."""
    raw = b"<<<mdstat:sep(0)>>>\n" + (DATA / f"{name}.txt").read_bytes()
    return parse_mdstat(split_sections(raw).sections["mdstat"])


def check(arrays: dict[str, Array], item: str) -> Outcome:
    return collapse(item, md_arrays.check(item, NoParams(), arrays, {}, 0.0))


def test_every_sample_has_its_source() -> None:
    for sample in DATA.glob("*.txt"):
        assert sample.with_suffix(".source.md").exists(), sample


def test_raid5_with_a_failed_member_names_it_and_has_no_redundancy_left() -> None:
    outcome = check(mdstat("raid5_failed_member"), "md0")
    assert outcome.state == 2
    assert outcome.summary.startswith("degraded [3/2] [U_U]: sdc1 failed, no redundancy left")


def test_raid6_missing_two_is_crit_with_recovery_eta() -> None:
    outcome = check(mdstat("raid6_two_missing_recovery"), "md0")
    assert outcome.state == 2
    assert "degraded [6/4] [UUUU__]: slots 4, 5 empty, no redundancy left" in outcome.summary
    assert "recovery 19.60% onto sde1, sdf1, done in about 23 hours 40 minutes" in outcome.summary
    metrics = {m.name: m.value for m in outcome.metrics}
    assert metrics["md_sync_eta_seconds"] == 1420.1 * 60 and metrics["md_redundancy_left"] == 0


def test_reshape_progress_and_spares() -> None:
    outcome = check(mdstat("raid6_reshape_with_spares"), "md0")
    assert outcome.state == 2 and "reshape 48.40%, done in about 21 hours 11 minutes" in outcome.summary
    assert "spares: sde1, sdf1" in outcome.details


def test_raid1_recovering_after_a_pasted_prompt_line() -> None:
    arrays = mdstat("raid1_recovery_with_prompt")
    assert sorted(arrays) == ["md0", "md1"]
    assert check(arrays, "md1").state == 0
    md0 = check(arrays, "md0")
    assert md0.state == 2 and "recovery 0.40% onto sda1" in md0.summary


def test_firmware_raid_container_is_not_an_array_to_judge() -> None:
    arrays = mdstat("imsm_container_healthy")
    assert [service.item for service in md_arrays.discover(arrays)] == ["md127"]
    assert check(arrays, "md127").state == 0


def test_many_states() -> None:
    arrays = mdstat("many_states_fixture")
    assert "md219" not in [service.item for service in md_arrays.discover(arrays)]
    expected = {"md3": 0, "md127": 0, "md0": 0, "md4": 2, "md6": 2, "md8": 0, "md7": 1, "md9": 0, "md10": 0,
                "md11": 0, "md12": 0}
    assert {item: check(arrays, item).state for item in expected} == expected
    assert "degraded [4/3] [U_UU]: slot 1 empty, can lose 1 more" in check(arrays, "md7").summary
    assert "resync 8.50%, done in about 17 minutes" in check(arrays, "md8").summary
    assert "resync delayed" in check(arrays, "md9").details
    assert "auto-read-only" in check(arrays, "md11").details
    assert "inactive" in check(arrays, "md4").summary


def test_vanished_array_is_crit() -> None:
    assert check({}, "md5").state == 2


@given(st.lists(st.text(max_size=100), max_size=30))
def test_parser_never_raises(lines: list[str]) -> None:
    arrays = parse_mdstat([[line] for line in lines])
    for item in arrays:
        list(md_arrays.check(item, NoParams(), arrays, {}, 0.0))


@given(st.integers(min_value=0, max_value=1500))
def test_truncated_mdstat_never_raises(cut: int) -> None:
    text = (DATA / "many_states_fixture.txt").read_text()[:cut]
    arrays = parse_mdstat([[line] for line in text.splitlines() if line.strip()])
    for item in arrays:
        assert check(arrays, item).state in (0, 1, 2, 3)
