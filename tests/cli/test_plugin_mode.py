"""The Nagios-plugin mode: output format, exit codes, remembered items; the agent's MooseFS
collector when mfscli hangs or prints nonsense (a real process standing in for mfscli)."""

from __future__ import annotations

import stat
from pathlib import Path

from pytest import CaptureFixture

from tests.plugins.moosefs.test_moosefs import sample
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import Metric
from watchkeeper.cli.commands import plugin_mode
from watchkeeper.cli.main import main
from watchkeeper.model.cycles import Outcome
from watchkeeper.plugins.moosefs.chunkservers import ChunkserverParams, moosefs_chunkservers


def test_output_is_one_status_line_with_perfdata_then_details() -> None:
    outcome = Outcome("MooseFS replication", 1, "445 chunks of goal 3 lack replicas | pipes are not perfdata",
                      "line one\nline two", [Metric("mfs_chunks_undergoal", 445), Metric("x_percent", 3.5, (80, 90),
                                                                                        (0, 100))])
    text = plugin_mode.render_plugin_output(outcome)
    first, *rest = text.splitlines()
    assert first == ("WARN - 445 chunks of goal 3 lack replicas / pipes are not perfdata | "
                     "'mfs_chunks_undergoal'=445 'x_percent'=3.5%;80;90;0;100")
    assert rest == ["line one", "line two"]


def test_a_chunkserver_seen_before_and_gone_now_is_crit() -> None:
    healthy = sample("1-healthy", "healthy")
    stores: dict[str, object] = {}
    first = plugin_mode._check_items(moosefs_chunkservers, healthy, ChunkserverParams(), stores)
    assert first.state == 0 and first.summary == "all 4 OK"
    del healthy.chunkservers["198.18.0.12:19423"]
    later = plugin_mode._check_items(moosefs_chunkservers, healthy, ChunkserverParams(), stores)
    assert later.state == 2
    assert "1 of 4 not OK: MooseFS chunkserver 198.18.0.12:19423: 198.18.0.12:19423 is not known" in later.summary


def _fake_mfscli(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "mfscli"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_hung_mfscli_is_cut_at_the_timeout_and_reported(tmp_path: Path) -> None:
    hung = _fake_mfscli(tmp_path, "exec sleep 30")
    lines: list[str] = []
    agent.CONFIG["moosefs"] = {"master": "127.0.0.1:9421", "mfscli": str(hung), "timeout_s": 0.5}
    try:
        agent.storage_moosefs(lines)  # type: ignore[no-untyped-call]
    finally:
        agent.CONFIG.pop("moosefs")
    assert "watchkeeper:\terror\t" + f"{hung} did not answer within 0.5s" in lines


def test_plugin_mode_exit_codes_for_garbage_and_hung_tools(tmp_path: Path, capsys: CaptureFixture[str]) -> None:
    # the prefix stands in for the whole tool call: it ignores `mfscli -H ... -P ...` after it
    garbage = _fake_mfscli(tmp_path, "printf 'master info:\\tno\\tnumbers\\n\\001\\002 binary junk\\n'")
    home = str(tmp_path / "home")
    code = main(["--home", home, "plugin", "moosefs-replicas", "--master", "h:1", "--prefix", str(garbage)])
    assert code == 2
    assert capsys.readouterr().out.startswith("CRIT - cannot read the MooseFS master h:1: no master info")
    hung = _fake_mfscli(tmp_path, "exec sleep 30")
    code = main(["--home", home, "plugin", "moosefs-space", "--master", "h:1", "--prefix", str(hung),
                 "--timeout", "0.5"])
    assert code == 3
    assert "did not answer within 0.5s" in capsys.readouterr().out
