"""The newest file below a backup directory, through the agent's collector on a real directory
tree: its age, a newest file much smaller than the usual ones, no file, a directory that is
gone, a walk cut at its limit, symbolic links never followed, names with line breaks. The
parser on any input."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import outcomes
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.cycle import run_host_cycle
from watchkeeper.engine.discovery import discover_in_output
from watchkeeper.plugins.backups.files import parse_backup_files

NOW = 1_796_025_000.0
DAY = 86400.0


def collected(monkeypatch: pytest.MonkeyPatch, *targets: dict[str, object]) -> bytes:
    monkeypatch.setitem(agent.CONFIG, "backup_files", list(targets))
    out: list[str] = []
    agent.backup_files(out)  # type: ignore[no-untyped-call]
    return ("\n".join(out) + "\n").encode()


def dump(directory: Path, name: str, size: int, age_s: float) -> None:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (NOW - age_s, NOW - age_s))


def test_the_newest_dump_by_age_and_a_dump_missed_twice_is_crit(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "db1"
    for day in range(1, 4):
        dump(target, f"2026-11-2{day}/db.dump", 1000, (3 - day) * DAY + 3600)
    dump(target, "notes.txt", 10, 60)  # newer, but not a dump
    service = outcomes(collected(monkeypatch, {"path": str(target), "pattern": "*.dump"}), now=NOW)[
        f"Backup files {target}"]
    assert service.state == 0
    assert service.summary == "newest 2026-11-23/db.dump, 3 files, 2.93 KiB, age: 1 hour"
    late = outcomes(collected(monkeypatch, {"path": str(target), "pattern": "*.dump"}), now=NOW + 2 * DAY + 7200)
    assert late[f"Backup files {target}"].state == 2  # 51 hours: the daily dump missed twice (CRIT at 50)


def test_a_newest_dump_much_smaller_than_usual_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "db1"
    outputs = []
    for day in range(4):  # three nightly dumps of 1 MB, then one of 20 kB
        dump(target, f"db-{day}.dump", 1_000_000 if day < 3 else 20_000, 60)
        os.utime(target / f"db-{day}.dump", (NOW + day, NOW + day))
        outputs.append(collected(monkeypatch, {"path": str(target)}))
    specs = discover_in_output(outputs[0], "db1")
    stores: dict[str, dict[str, Any]] = {}  # the host's value stores, kept from run to run
    states = []
    for index, output in enumerate(outputs):
        cycle = run_host_cycle("db1", AgentOutput(output), specs, [], stores, NOW + index).cycle
        service = {o.name: o for o in cycle.outcomes}[f"Backup files {target}"]
        states.append(service.state)
    assert states == [0, 0, 0, 1]
    assert "19.53 KiB is 2% of the usual 976.56 KiB: was the backup cut short?" in service.summary


def test_no_dump_or_no_directory_is_crit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    found = outcomes(collected(monkeypatch, {"path": str(tmp_path / "empty")}, {"path": str(tmp_path / "gone")}))
    assert found[f"Backup files {tmp_path / 'empty'}"].state == 2
    assert f"no file matching * below {tmp_path / 'empty'}" in found[f"Backup files {tmp_path / 'empty'}"].summary
    gone = found[f"Backup files {tmp_path / 'gone'}"]
    assert gone.state == 2 and gone.summary == f"{tmp_path / 'gone'} does not exist (!!)"


def test_a_walk_is_cut_at_its_limit_and_never_follows_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "many"
    for n in range(50):
        dump(target, f"f{n:03d}.tar", 10, 100 + n)
    (target / "loop").symlink_to(target)  # a link back up: never followed
    (target / "elsewhere").symlink_to("/etc")
    (target / "line\nbreak.tar").write_bytes(b"y")
    os.utime(target / "line\nbreak.tar", (NOW, NOW))
    whole = parse_backup_files([[line] for line in collected(monkeypatch, {"path": str(target)}).decode()
                                .splitlines()[1:]]).items[str(target)]
    assert (whole.files, whole.newest, whole.cut) == (51, "line\nbreak.tar", "")
    cut = outcomes(collected(monkeypatch, {"path": str(target), "max_entries": 10}), now=NOW)[f"Backup files {target}"]
    assert cut.state == 1 and "walk cut after 10 entries" in cut.summary


@given(st.lists(st.one_of(st.text(max_size=300), st.sampled_from([
    '{"path": "/x", "files": 1e400, "newest_mtime": "NaN", "newest_bytes": -5}',
    '{"path": "/y", "files": 99999999999999999999999999, "bytes": [1, 2], "newest": {"a": 1}}',
    "[" * 10_000, '{"path": 5}'])), max_size=20))
def test_the_parser_takes_any_lines(lines: list[str]) -> None:
    parse_backup_files([[line] for line in lines])
