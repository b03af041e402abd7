"""LizardFS checks on real `lizardfs-admin`, `lizardfs checkfile` and `lizardfs fileinfo` outputs
from LizardFS's issue tracker (fixtures/corpus, each with its provenance), and on the porcelain
formats as LizardFS's source prints them and its own test suite expects them. LizardFS is not
packaged in Debian 12, so no master runs here: the agent's collectors run against a stand-in
process that prints the real outputs, as `lizardfs-admin` and `lizardfs` would."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest import CaptureFixture

from tests.conftest import fixtures, results
from tests.plugins.moosefs.test_moosefs import Outputs, metrics, summary, worst
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import NoParams, State
from watchkeeper.cli.main import main
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.plugins.lizardfs.admin import parse_lizardfs
from watchkeeper.plugins.moosefs.chunkservers import ChunkserverParams, check_chunkserver, discover_chunkservers
from watchkeeper.plugins.moosefs.files import check_files, parse_moosefs_files
from watchkeeper.plugins.moosefs.mfscli import MooseFS
from watchkeeper.plugins.moosefs.replication import ReplicationParams, check_replication
from watchkeeper.plugins.moosefs.space import ClusterSpaceParams, check_space

CORPUS = fixtures(__file__) / "corpus"
AGENT = fixtures(__file__) / "agent"

# `lizardfs-admin info --porcelain`: version, memory, total, available, trash, trash files, reserved,
# reserved files, FS objects, directories, files, chunks, chunk copies, regular copies (info_command.cc)
INFO = "3.12.0 2147483648 4398046511104 1099511627776 1073741824 12 0 0 5000 100 4900 66 154 154"


def section(*blocks: tuple[str, str]) -> MooseFS:
    lines = ["<<<lizardfs:sep(0)>>>", "watchkeeper: master 10.0.0.1:9421"]
    for command, text in blocks:
        lines += [f"[{command}]", *text.splitlines()]
    raw = ("\n".join(lines) + "\n").encode()
    return parse_lizardfs(split_sections(raw).sections["lizardfs"])


def replication(state: MooseFS, params: ReplicationParams | None = None) -> Outputs:
    return list(check_replication("", params or ReplicationParams(), state, {}, 1000.0))


def test_issue916_goal2_chunks_lacking_a_copy_warn_and_goal1_single_copies_are_by_choice() -> None:
    health = (CORPUS / "admin_chunks_health-issue916_goal1_unsafe_11.txt").read_text()
    state = section(("info", INFO), ("chunks-health", health))
    goals = state.by_goal()
    assert (goals[1].single_by_goal, goals[1].endangered, goals[1].stable) == (11, 0, 0)
    assert (goals[2].undergoal, goals[2].stable, goals[2].endangered) == (12, 10, 0)
    assert (goals[3].stable, goals[3].chunks) == (33, 33)
    out = replication(state)
    assert worst(out) is State.WARN
    text = summary(out)
    assert "12 chunks of goal 2 lack replicas" in text
    assert "11 chunks of goal 1 have one copy, as their goal asks: no redundancy by choice" in text
    assert metrics(out)["mfs_chunks"] == 66 and metrics(out)["mfs_goal2_undergoal"] == 12
    details = "".join(result.details for result in results(out))
    assert "Master 10.0.0.1:9421 (LizardFS 3.12.0)" in details and "Chunk loop" not in details


def test_single_copies_of_goal1_can_be_made_a_warning_by_rule() -> None:
    health = (CORPUS / "admin_chunks_health-issue916_goal1_unsafe_11.txt").read_text()
    out = replication(section(("info", INFO), ("chunks-health", health)),
                      ReplicationParams(single_by_goal_state=1, undergoal_state=0))
    assert worst(out) is State.WARN and "11 chunks of goal 1 have one copy" in summary(out)


# Porcelain rows as chunk_health_command.cc prints them (AVA goal safe endangered lost; REP/DEL goal
# and the chunks missing or with too many 0..10+ parts), for the state LizardFS's own
# test_chunks_health.sh builds: one chunk in each of goals 2, 3, xor2 and xor3, chunkservers stopped.
ZEROS = " 0" * 9


def test_porcelain_lost_chunk_is_crit_and_endangered_chunk_warns() -> None:
    health = "\n".join([
        "AVA 1 0 0 0", "AVA 2 0 1 0", "AVA 3 1 0 0", "AVA xor2 0 0 1", "AVA xor3 0 1 0",
        "REP 1 0 0" + ZEROS, "REP 2 0 1" + ZEROS, "REP 3 0 1" + ZEROS, "REP xor2 0 0 0 1 0 0 0 0 0 0 0",
        "REP xor3 0 1" + ZEROS,
        "DEL 1 0 0" + ZEROS, "DEL 2 1 0" + ZEROS, "DEL 3 1 0" + ZEROS, "DEL xor2 1 0" + ZEROS,
        "DEL xor3 1 0" + ZEROS,
    ])
    out = replication(section(("info", INFO), ("chunks-health", health)))
    assert worst(out) is State.CRIT
    text = summary(out)
    assert "1 chunk of goal xor2 has no copy: their data is unreadable" in text
    assert "1 chunk of goal 2 is down to one copy" in text and "1 chunk of goal xor3 is down to one copy" in text
    assert "1 chunk of goal 3 lacks replicas" in text
    assert "goal 1" not in text  # no chunks of goal 1: nothing to say
    assert "lizardfs filerepair" in "".join(result.details for result in results(out))
    assert "mfs_goalxor2_missing" in metrics(out)


def test_a_goal_named_by_its_labels_has_a_metric_name_and_an_own_row() -> None:
    # custom goals from LizardFS's test_chunks_health_with_labels.sh: "AVA AA 3|REP AA 0 3"
    state = section(("info", INFO), ("list-goals", "5 AA A A\n6 A_ A _"),
                    ("chunks-health", "AVA AA 3 0 0\nREP AA 0 3" + ZEROS[2:] + "\nAVA A_ 3 0 0\nREP A_ 3" + ZEROS))
    out = replication(state)
    assert worst(out) is State.WARN and "3 chunks of goal AA lack replicas" in summary(out)
    assert metrics(out)["mfs_goalAA_undergoal"] == 3 and metrics(out)["mfs_goalA__stable"] == 3


DISKS = "\n".join([
    "10.0.0.2:9422 /mnt/hdd1 no no no 0 0 1000000000000 400000000000 6000",
    "10.0.0.2:9422 /mnt/hdd two no yes no 1234 1700000000 1000000000000 0 0",
    "10.0.0.3:9422 /mnt/hdd1 yes no no 0 0 1000000000000 200000000000 3000",
])
CHUNKSERVERS = "\n".join([
    "10.0.0.2:9422 3.12.0 6000 400000000000 2000000000000 0 0 0 0 _",
    "10.0.0.3:9422 3.12.0 3000 200000000000 1000000000000 3000 200000000000 1000000000000 0 ssd",
    "10.0.0.4:9422 - 0 0 0 0 0 0 0 -",
])


def test_chunkservers_disconnected_damaged_disk_and_drain() -> None:
    state = section(("info", INFO), ("list-chunkservers", CHUNKSERVERS), ("list-disks", DISKS))
    assert [service.item for service in discover_chunkservers(state)] == [
        "10.0.0.2:9422", "10.0.0.3:9422", "10.0.0.4:9422"]

    def check(item: str) -> Outputs:
        return list(check_chunkserver(item, ChunkserverParams(), state, {}, 1000.0))

    damaged = check("10.0.0.2:9422")
    assert worst(damaged) is State.CRIT and "disk /mnt/hdd two is damaged" in summary(damaged)
    assert "connected, 6000 chunks" in summary(damaged)
    draining = check("10.0.0.3:9422")
    assert worst(draining) is State.OK and "disks marked for removal: NOT READY" in summary(draining)
    gone = check("10.0.0.4:9422")
    assert worst(gone) is State.CRIT and "disconnected from the master" in summary(gone)


def test_space_from_porcelain_info_and_from_its_human_form() -> None:
    out = list(check_space("", ClusterSpaceParams(), section(("info", INFO)), {}, 0.0))
    assert metrics(out)["mfs_total_bytes"] == 4398046511104 and metrics(out)["mfs_used_bytes"] == 3298534883328
    assert worst(out) is State.OK and "Used: 75.00%" in summary(out)
    human = "LizardFS v3.12.0\nMemory usage:\t2GiB\nTotal space:\t4TiB\nAvailable space:\t3TiB\nChunks:\t66"
    out = list(check_space("", ClusterSpaceParams(), section(("info", human)), {}, 0.0))
    assert metrics(out)["mfs_total_bytes"] == 4 << 40 and worst(out) is State.OK


def test_unknown_lines_and_a_missing_master_are_visible_not_silent() -> None:
    state = section(("chunks-health", "AVA 2 5 0 0"))
    assert not state.reachable
    out = replication(state)
    assert worst(out) is State.CRIT and "cannot read the LizardFS master 10.0.0.1:9421" in summary(out)
    assert worst(list(check_space("", ClusterSpaceParams(), state, {}, 0.0))) is State.UNKNOWN


# -------------------------------------------------------------- the agent's collectors


def _stand_in(tmp_path: Path, outputs: dict[str, str], exit_code: int = 0) -> Path:
    """A process that answers as `lizardfs-admin COMMAND --porcelain HOST PORT` and
    `lizardfs getgoal|checkfile|fileinfo FILE...` would, with the given outputs. It is
    the agent's command prefix: its first argument is the tool's name."""
    data = tmp_path / "outputs.json"
    data.write_text(json.dumps(outputs))
    script = tmp_path / "lizardfs-stand-in"
    script.write_text(f"""#!{sys.executable}
import json, sys
outputs = json.load(open({str(data)!r}))
tool, command, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
if tool == "lizardfs-admin":
    if command not in outputs:
        sys.stderr.write("Can't connect to " + rest[-2] + ":" + rest[-1] + ": ECONNREFUSED\\n")
        sys.exit(1)
    sys.stdout.write(outputs[command])
    sys.exit({exit_code})
for path in rest:
    key = command + ":" + path.rsplit("/", 1)[-1]
    if command == "getgoal":
        print(path + ": " + outputs.get(key, "ec21"))
    else:
        sys.stdout.write(path + ":\\n" + outputs.get(key, outputs.get(command, "")))
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.fixture()
def lizardfs_config() -> Any:
    saved = dict(agent.CONFIG)
    yield agent.CONFIG
    agent.CONFIG.clear()
    agent.CONFIG.update(saved)


def _agent_lizardfs(tmp_path: Path, outputs: dict[str, str], config: dict[str, Any]) -> tuple[list[str], MooseFS]:
    config["lizardfs"] = {"master": "10.0.0.1:9421", "command_prefix": [str(_stand_in(tmp_path, outputs))]}
    lines: list[str] = []
    agent.storage_lizardfs(lines)  # type: ignore[no-untyped-call]
    parsed = split_sections(("\n".join(lines) + "\n").encode())
    return lines, parse_lizardfs(parsed.sections["lizardfs"])


def test_agent_collects_every_report_and_the_checks_read_it(tmp_path: Path, lizardfs_config: Any) -> None:
    health = (CORPUS / "admin_chunks_health-issue916_goal1_unsafe_11.txt").read_text()
    lines, state = _agent_lizardfs(tmp_path, {
        "info": INFO + "\n", "chunks-health": health, "list-chunkservers": CHUNKSERVERS, "list-disks": DISKS,
        "list-goals": "1 1 1: _\n2 2 2: _ _\n3 3 3: _ _ _\n", "metadataserver-status": "master running 4242\n",
    }, lizardfs_config)
    assert lines[0] == "<<<lizardfs:sep(0)>>>" and lines[1] == "watchkeeper: master 10.0.0.1:9421"
    assert state.reachable and state.personality == "master (running)"
    assert len(state.chunkservers) == 3 and len(state.disks) == 3
    assert "12 chunks of goal 2 lack replicas" in summary(replication(state))


def test_agent_names_a_master_that_does_not_answer_and_asks_no_further(tmp_path: Path,
                                                                       lizardfs_config: Any) -> None:
    lines, state = _agent_lizardfs(tmp_path, {}, lizardfs_config)
    assert [line for line in lines if line.startswith("[")] == []
    out = replication(state)
    assert worst(out) is State.CRIT
    assert "info: " in summary(out) and "exited with 1: Can't connect to 10.0.0.1:9421: ECONNREFUSED" in summary(out)


def test_agent_keeps_the_reports_that_came_when_one_fails(tmp_path: Path, lizardfs_config: Any) -> None:
    lines, state = _agent_lizardfs(tmp_path, {"info": INFO, "chunks-health": "AVA 2 5 0 0\n"}, lizardfs_config)
    assert "[chunks-health]" in lines
    assert any(line.startswith("watchkeeper: error list-disks: ") for line in lines)
    assert state.errors and worst(replication(state)) is State.CRIT  # a partial view is not called healthy


def test_per_path_check_names_the_lost_chunk_of_an_ec_file(tmp_path: Path, lizardfs_config: Any) -> None:
    checkfile = (CORPUS / "checkfile-issue934_ec21_one_chunk_0_copies.txt").read_text()
    fileinfo = (CORPUS / "fileinfo-issue934_ec21_no_valid_copies_excerpt.txt").read_text()
    mount = tmp_path / "mnt"
    (mount / "dump").mkdir(parents=True)
    for name in ("vzdump-118.vma.zst", "healthy.img", "copies.img"):
        (mount / "dump" / name).write_bytes(b"x")
    stand_in = _stand_in(tmp_path, {
        "checkfile:vzdump-118.vma.zst": checkfile.split("\n", 1)[1], "fileinfo": fileinfo,
        "checkfile": " chunks with 1 copy:            3\n",
        "getgoal:copies.img": "3", "checkfile:copies.img": " chunks with 2 copies:            3\n",
    })
    lizardfs_config["lizardfs"] = {"paths": [str(mount)], "command_prefix": [str(stand_in)]}
    lines: list[str] = []
    agent.storage_lizardfs_files(lines)  # type: ignore[no-untyped-call]
    assert lines[0] == "<<<lizardfs_files:sep(0)>>>"
    files = parse_moosefs_files(split_sections(("\n".join(lines) + "\n").encode()).sections["lizardfs_files"])
    out = list(check_files(str(mount), NoParams(), files, {}, 0.0))
    assert worst(out) is State.CRIT
    text = summary(out)
    assert "1 files have chunks with 0 copies: dump/vzdump-118.vma.zst" in text
    assert "1 files have fewer copies than their goal: dump/copies.img" in text
    details = "".join(result.details for result in results(out))
    assert "no valid copy of chunk 118" in details and "lizardfs filerepair" in details
    assert "goal ec21" in details


def test_plugin_mode_for_nagios(tmp_path: Path, capsys: CaptureFixture[str]) -> None:
    health = (CORPUS / "admin_chunks_health-issue916_goal1_unsafe_11.txt").read_text()
    stand_in = _stand_in(tmp_path, {"info": INFO, "chunks-health": health, "list-chunkservers": CHUNKSERVERS,
                                    "list-disks": DISKS, "list-goals": "", "metadataserver-status": ""})
    home = str(tmp_path / "home")
    code = main(["--home", home, "plugin", "lizardfs-replicas", "--master", "10.0.0.1:9421",
                 "--prefix", str(stand_in)])
    assert code == 1
    assert capsys.readouterr().out.startswith("WARN - 12 chunks of goal 2 lack replicas")
    code = main(["--home", home, "plugin", "lizardfs-replicas", "--master", "10.0.0.1:9421",
                 "--prefix", str(stand_in), "--goal", "3"])
    assert code == 0 and "all 33 chunks of goal 3 have their copies" in capsys.readouterr().out
    code = main(["--home", home, "plugin", "lizardfs-chunkservers", "--master", "10.0.0.1:9421",
                 "--prefix", str(stand_in)])
    assert code == 2 and "LizardFS chunkserver 10.0.0.4:9422: disconnected" in capsys.readouterr().out


def test_a_master_found_here_is_lizardfs_only_where_only_its_tools_are(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for tool in ("lizardfs-admin", "mfscli"):
        (tmp_path / tool).write_text("#!/bin/sh\n")
        (tmp_path / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert agent._local_master_product() == "moosefs"  # type: ignore[no-untyped-call]
    (tmp_path / "mfscli").unlink()
    assert agent._local_master_product() == "lizardfs"  # type: ignore[no-untyped-call]


def test_the_catalog_has_the_lizardfs_services() -> None:
    titles = {plugin.name: plugin.title for plugin in builtin_catalog().plugins}
    assert titles["lizardfs_replication"] == "LizardFS replication"
    assert titles["lizardfs_chunkserver"] == "LizardFS chunkserver %s"
    assert titles["lizardfs_files"] == "LizardFS files %s" and titles["lizardfs_space"] == "LizardFS space"


# -------------------------------------------------------------- hostile input

@given(st.lists(st.text(max_size=200), max_size=40))
def test_parser_never_raises_on_arbitrary_lines(lines: list[str]) -> None:
    state = parse_lizardfs([[line] for line in lines])
    list(check_replication("", ReplicationParams(), state, {}, 0.0))
    list(check_space("", ClusterSpaceParams(), state, {}, 0.0))


@given(st.lists(st.tuples(
    st.sampled_from(["info", "chunks-health", "list-chunkservers", "list-disks", "list-goals"]),
    st.lists(st.one_of(st.sampled_from(["AVA", "REP", "DEL", "-", "yes", "no", "10.0.0.9:9422", "\t"]),
                       st.integers(-5, 10**40).map(str), st.text(max_size=12)), max_size=16)), max_size=20))
def test_parser_survives_plausible_but_broken_reports(blocks: list[tuple[str, list[str]]]) -> None:
    lines = []
    for command, words in blocks:
        lines += [[f"[{command}]"], [" ".join(words)], ["\t".join(words)]]
    state = parse_lizardfs(lines)
    list(check_replication("", ReplicationParams(), state, {}, 0.0))
    for address in state.chunkservers:
        list(check_chunkserver(address, ChunkserverParams(), state, {}, 0.0))


def test_a_huge_report_with_a_long_line_parses() -> None:
    rows = [f"AVA g{index} {10**30} 0 0" for index in range(2000)] + ["REP " + "9" * 100_000]
    state = section(("info", INFO), ("chunks-health", "\n".join(rows)))
    assert len(state.by_goal()) == 2000
    assert worst(replication(state)) is State.OK


def test_a_disk_line_cut_after_its_flags_is_left_out_not_a_crash() -> None:
    # what the mutation fuzzer found: three yes/no flags and only four figures after them
    state = section(("info", INFO), ("list-disks", "10.0.0.3:9422 /mnt/hdd1 yes no no 0 0 1000000000000 200000000000"))
    assert state.disks == [] and state.reachable


def test_digits_that_int_refuses_are_goal_names_not_crashes() -> None:
    # "²" and "٣" pass str.isdigit; int() takes the second but not the first
    state = section(("info", INFO), ("chunks-health", "AVA ² 1 0 0\nAVA ٣ 2 0 0\nAVA 3 4 0 0"))
    out = replication(state)
    assert worst(out) is State.OK and metrics(out)["mfs_chunks"] == 7
    assert not agent._plain_number("²") and not agent._plain_number("٣")  # type: ignore[no-untyped-call]
    assert agent._plain_number("118")  # type: ignore[no-untyped-call]
