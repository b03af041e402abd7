"""MooseFS checks on real mfscli 3.0.117 outputs recorded from a real cluster (fixtures/samples: healthy,
one and two chunkservers killed, graceful stop, disk marked for removal) and real per-file tool output."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import fixtures, results
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import Metric, NoParams, Pending, Result, State
from watchkeeper.collect.sections import split_sections
from watchkeeper.plugins.moosefs.chunkservers import ChunkserverParams, check_chunkserver, discover_chunkservers
from watchkeeper.plugins.moosefs.files import check_files, parse_moosefs_files
from watchkeeper.plugins.moosefs.mfscli import MooseFS, parse_moosefs
from watchkeeper.plugins.moosefs.recovery import Phase, track
from watchkeeper.plugins.moosefs.replication import ReplicationParams, check_replication
from watchkeeper.plugins.moosefs.space import ClusterSpaceParams, check_space

SAMPLES = fixtures(__file__) / "samples"
HERE = fixtures(__file__) / "agent"
Store = dict[str, Any]
Outputs = list[Result | Metric | Pending]
PARTS = ("mfscli-SIN", "mfscli-SCS", "mfscli-SHD", "mfscli-SIL", "mfscli-SMO", "mfscli-m1-SIC")


def sample(scenario: str, tag: str) -> MooseFS:
    """The agent's section as it would carry the sample's outputs of one moment."""
    folder = SAMPLES / scenario
    body = b"".join((folder / f"{tag}_{part}.txt").read_bytes() for part in PARTS)
    raw = b"<<<moosefs:sep(9)>>>\nwatchkeeper:\tmaster\t127.0.0.1:19421\n" + body
    return parse_moosefs(split_sections(raw).sections["moosefs"])


def replication(section: MooseFS, store: Store | None = None, now: float = 1000.0,
                params: ReplicationParams | None = None) -> Outputs:
    return list(check_replication("", params or ReplicationParams(), section, {} if store is None else store, now))


def summary(outputs: Outputs) -> str:
    return ", ".join(result.summary for result in results(outputs) if result.summary)


def worst(outputs: Outputs) -> State:
    return max((result.state for result in results(outputs)), default=State.OK)


def metrics(outputs: Outputs) -> dict[str, float]:
    return {output.name: output.value for output in outputs if isinstance(output, Metric)}


def test_healthy_cluster_is_ok_with_its_chunk_counts() -> None:
    section = sample("1-healthy", "healthy")
    out = replication(section)
    assert worst(out) is State.OK
    assert "all 806 chunks have their copies" in summary(out)
    assert metrics(out)["mfs_goal3_stable"] == 604
    assert metrics(out)["mfs_goal2_stable"] == 202
    assert sorted(section.chunkservers) == [f"198.18.0.1{i}:1942{i + 1}" for i in range(1, 5)]
    for address in section.chunkservers:
        assert worst(list(check_chunkserver(address, ChunkserverParams(), section, {}, 0.0))) is State.OK


def test_one_killed_chunkserver_warns_per_goal_like_the_seed() -> None:
    section = sample("2-one-cs-killed", "t+0000.4s")
    out = replication(section)
    assert worst(out) is State.WARN
    text = summary(out)
    counts = section.all_chunks.by_goal()
    assert f"{counts[3].undergoal} chunks of goal 3 lack replicas" in text
    assert counts[3].undergoal > 0
    assert metrics(out)["mfs_chunks_undergoal"] == counts[3].undergoal


def test_two_killed_chunkservers_lose_goal_one_data_crit() -> None:
    section = sample("4-two-cs-killed", "t+0019.9s-final")
    out = replication(section)
    assert worst(out) is State.CRIT
    assert "53 chunks of goal 1 have no copy" in summary(out)
    assert "77 chunks of goal 2 have no copy" in summary(out)
    assert "604 chunks of goal 3 lack replicas" in summary(out)
    assert "mfsfilerepair" in "".join(result.details for result in results(out))
    down = [a for a, cs in section.chunkservers.items() if not cs.connected]
    assert down == ["198.18.0.13:19424", "198.18.0.14:19425"]
    state = list(check_chunkserver(down[0], ChunkserverParams(), section, {}, 0.0))
    assert worst(state) is State.CRIT and "disconnected" in summary(state)


def test_gracefully_stopped_chunkserver_is_temporary_maintenance() -> None:
    section = sample("5-cs-graceful-stop", "t+0027.5s")
    out = list(check_chunkserver("198.18.0.12:19423", ChunkserverParams(), section, {}, 0.0))
    assert worst(out) is State.WARN
    assert "temporary maintenance" in summary(out)


def test_vanished_chunkserver_stays_crit() -> None:
    section = sample("1-healthy", "healthy")
    out = list(check_chunkserver("198.18.0.19:19430", ChunkserverParams(), section, {}, 0.0))
    assert worst(out) is State.CRIT and "not known to the master" in summary(out)


def test_disk_marked_for_removal_shows_drain_then_ready() -> None:
    draining = sample("3-disk-marked-for-removal", "t+0043.1s")
    store: Store = {}
    out = list(check_chunkserver("198.18.0.13:19424", ChunkserverParams(), draining, store, 0.0))
    assert worst(out) is State.OK
    assert "NOT READY" in summary(out)
    assert metrics(out)["mfs_removal_pending_chunks"] > 0
    ready = sample("3-disk-marked-for-removal", "t+0182.0s")
    out = list(check_chunkserver("198.18.0.13:19424", ChunkserverParams(), ready, store, 139.0))
    assert "READY, 568 chunks have their copies elsewhere" in summary(out)


def test_drain_eta_from_two_real_moments() -> None:
    store: Store = {}
    moments = sorted({p.name.split("_")[0] for p in (SAMPLES / "3-disk-marked-for-removal").glob("t+*SHD.txt")})
    seen = []
    for tag in moments:
        section = sample("3-disk-marked-for-removal", tag)
        now = float(tag[2:].split("s")[0])
        seen.append(summary(list(check_chunkserver("198.18.0.13:19424", ChunkserverParams(), section, store, now))))
    assert any("done in about" in text for text in seen), seen
    assert "READY" in seen[-1]


def _recovery_series(scenario: str) -> list[tuple[float, int]]:
    rows = (SAMPLES / scenario / "counts.tsv").read_text().splitlines()[1:]
    series = []
    for row in rows:
        fields = row.split("\t")
        clock = datetime.datetime.strptime(fields[0], "%H:%M:%S.%f")
        seconds = clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6
        series.append((seconds, int(fields[3]) + int(fields[4])))
    return series


def test_eta_waits_while_stalled_then_counts_down_on_a_real_recovery() -> None:
    store: Store = {}
    phases = []
    for now, lacking in _recovery_series("5-cs-graceful-stop"):
        recovery = track(store, "lacking", now, lacking)
        phases.append(recovery.phase)
        if recovery.phase is Phase.FALLING:
            assert recovery.eta_seconds is not None and recovery.eta_seconds > 0
        else:
            assert recovery.eta_seconds is None
    assert Phase.STALLED in phases  # held by the temporary maintenance timeout
    assert Phase.FALLING in phases
    assert phases.index(Phase.STALLED) < phases.index(Phase.FALLING)


def test_rising_count_gives_no_eta() -> None:
    store: Store = {}
    track(store, "lacking", 0.0, 70)
    rising = track(store, "lacking", 60.0, 90)  # the seed: 70, then 90 chunks lack replicas
    assert rising.phase is Phase.RISING and rising.eta_seconds is None
    assert "still rising" in rising.describe("count")
    falling = track(store, "lacking", 120.0, 60)
    assert falling.phase is Phase.FALLING and falling.eta_seconds == pytest.approx(120.0)
    assert track(store, "lacking", 180.0, 0).phase is Phase.CLEAN


def test_replication_summary_carries_the_eta() -> None:
    store: Store = {}
    replication(sample("2-one-cs-killed", "t+0000.4s"), store, 1000.0)
    out = replication(sample("2-one-cs-killed", "t+0002.5s"), store, 1002.1)
    assert "done in about" in summary(out)
    assert metrics(out)["mfs_replication_eta_seconds"] > 0
    final = replication(sample("2-one-cs-killed", "t+0006.9s-final"), store, 1006.5)
    assert worst(final) is State.OK


def test_loop_time_and_interval_fit_are_explained() -> None:
    section = sample("3-disk-marked-for-removal", "t+0182.0s")
    store: Store = {}
    replication(section, store, 0.0)
    details = "".join(r.details for r in results(replication(section, store, 300.0)))
    assert "the last one took 1 minute" in details
    assert "longer than the chunk loop" in details
    details = "".join(r.details for r in results(replication(section, store, 360.0)))
    assert "fits the chunk loop" in details


def test_goal_filter_judges_one_goal_only() -> None:
    section = sample("4-two-cs-killed", "t+0019.9s-final")
    out = replication(section, params=ReplicationParams(goal=3))
    assert worst(out) is State.WARN and "goal 1" not in summary(out)


def test_unreachable_master_is_crit_and_services_unknown() -> None:
    raw = (HERE / "master-unreachable.txt").read_bytes()
    section = parse_moosefs(split_sections(raw).sections["moosefs"])
    out = replication(section)
    assert worst(out) is State.CRIT and "Working master servers not found" in summary(out)
    assert worst(list(check_space("", ClusterSpaceParams(), section, {}, 0.0))) is State.UNKNOWN
    assert list(discover_chunkservers(section)) == []


def test_space_forecast_from_growth() -> None:
    section = sample("1-healthy", "healthy")
    store: Store = {}
    list(check_space("", ClusterSpaceParams(), section, store, 0.0))
    out = list(check_space("", ClusterSpaceParams(), section, store, 3600.0))
    assert worst(out) is State.OK and "Used:" in summary(out)
    assert metrics(out)["mfs_total_bytes"] == 8362819584


@pytest.fixture()
def tool_outputs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Let the agent's per-path walk read the samples' real mfsgetgoal/mfscheckfile outputs."""
    folder = SAMPLES / "4-two-cs-killed"
    files = ["goal1/big-1", "goal1/small-1", "goal2/small-104", "goal3/small-1"]
    mount = "/tmp/mfs-lab-samples/mnt"

    def replay(argv: list[str], timeout_s: float = 10) -> tuple[str, None]:
        tool = argv[0]
        text = "".join((folder / f"t+0019.9s-final_{tool}-{f.replace('/', '-')}.txt").read_text()
                       for f in files if f"{mount}/{f}" in argv)
        return text, None

    monkeypatch.setattr(agent, "run_capture", replay)
    monkeypatch.setattr(os.path, "isdir", lambda path: True)
    monkeypatch.setattr(os, "walk", lambda root: iter([(mount, [], ["goal1/big-1", "goal1/small-1",
                                                                          "goal2/small-104", "goal3/small-1"])]))
    monkeypatch.setattr(os.path, "isfile", lambda path: True)
    return files


def test_per_path_check_names_files_with_zero_copies(tool_outputs: list[str]) -> None:
    report = agent._check_mfs_path("/tmp/mfs-lab-samples/mnt", [], 1000, 20.0)  # type: ignore[no-untyped-call]
    assert report["checked"] == 4
    section = parse_moosefs_files([[json.dumps(report)]])
    out = list(check_files("/tmp/mfs-lab-samples/mnt", NoParams(), section, {}, 0.0))
    assert worst(out) is State.CRIT
    text = summary(out)
    assert "files have chunks with 0 copies" in text and "goal1/big-1" in text and "goal2/small-104" in text
    assert "goal 3" not in text
    assert "1 files have fewer copies than their goal: goal3/small-1" in text
    assert "mfsfilerepair" in "".join(r.details for r in results(out))


@given(st.lists(st.lists(st.text(max_size=30), max_size=16), max_size=40))
def test_parsers_never_raise_on_arbitrary_rows(table: list[list[str]]) -> None:
    section = parse_moosefs(table)
    list(check_replication("", ReplicationParams(), section, {}, 0.0))
    for address in section.chunkservers:
        list(check_chunkserver(address, ChunkserverParams(), section, {}, 0.0))
    parse_moosefs_files([row[:1] for row in table if row])


@given(st.lists(st.tuples(st.sampled_from(["all chunks matrix:", "regular chunks matrix:", "chunk servers:",
                                            "disks:", "Disconnected chunk servers:", "chunk loop"]),
                          st.lists(st.one_of(st.integers(-5, 10**12).map(str), st.text(max_size=8)), max_size=15)),
                max_size=30))
def test_parser_survives_plausible_but_broken_lines(lines: list[tuple[str, list[str]]]) -> None:
    section = parse_moosefs([[head, *rest] for head, rest in lines])
    list(check_replication("", ReplicationParams(), section, {}, 0.0))
    list(check_space("", ClusterSpaceParams(), section, {}, 0.0))
    for address in section.chunkservers:
        list(check_chunkserver(address, ChunkserverParams(), section, {}, 0.0))


def test_per_path_check_on_a_missing_mount_warns_instead_of_claiming_all_is_well(tmp_path: Path) -> None:
    report = agent._check_mfs_path(str(tmp_path / "not-mounted"), [], 100, 5.0)  # type: ignore[no-untyped-call]
    section = parse_moosefs_files([[json.dumps(report)]])
    out = list(check_files(str(tmp_path / "not-mounted"), NoParams(), section, {}, 0.0))
    assert worst(out) is State.WARN
    assert "no files checked: not a directory (is the MooseFS mount there?)" in summary(out)


@pytest.mark.parametrize("field", ["examples", "errors"])
@pytest.mark.parametrize("value", [7, "text", {"a": 1}, None])
def test_a_files_report_with_a_list_of_the_wrong_type_keeps_the_rest(field: str, value: object) -> None:
    """Found by the fuzzer (1,000,000 inputs, seed 4242): `"examples": 7` raised a TypeError."""
    report = {"path": "/mnt/mfs/goal2", "files": 30, "checked": 30, "complete": True, "under_goal": 10,
              "zero_copies": 0, field: value}
    section = parse_moosefs_files([[json.dumps(report)]])
    assert section["/mnt/mfs/goal2"].under_goal == 10
    assert section["/mnt/mfs/goal2"].examples == [] and section["/mnt/mfs/goal2"].errors == []
