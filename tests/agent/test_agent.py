"""The agent: runs on this machine, stays Python 3.6 compatible, isolates failing collectors."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from watchkeeper.agent import watchkeeper_agent
from watchkeeper.collect.local import AGENT_PATH
from watchkeeper.collect.sections import split_sections
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.cycle import run_host_cycle
from watchkeeper.engine.discovery import discover_in_output

LINUX_SECTIONS = {"check_mk", "uptime", "cpu", "kernel", "mem", "df", "mounts", "diskstat", "lnx_if", "lsblk"}


@pytest.fixture(scope="module")
def output() -> bytes:
    return subprocess.run([sys.executable, str(AGENT_PATH)], check=True, capture_output=True, timeout=60).stdout


def test_agent_prints_every_linux_section(output: bytes) -> None:
    assert LINUX_SECTIONS <= set(split_sections(output).sections)
    assert b"FailedCollectors" not in output


def test_agent_source_is_python_3_6_syntax_and_stdlib_only() -> None:
    tree = ast.parse(AGENT_PATH.read_text(), feature_version=(3, 6))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names)


def test_every_service_of_this_machine_has_a_real_value(output: bytes) -> None:
    specs = discover_in_output(output)
    names = {spec.name for spec in specs}
    assert {"Memory", "CPU load", "Filesystem /", "Uptime", "OS"} <= names
    cycle = run_host_cycle("here", AgentOutput(output), specs, [], {}, 1000.0).cycle
    unknown = [o for o in cycle.outcomes if o.state == 3]
    assert unknown == []


def test_a_failing_collector_is_named_and_the_others_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(out: list[str]) -> None:
        raise PermissionError("no")

    broken.__name__ = "linux_mem"
    monkeypatch.setattr(watchkeeper_agent, "LINUX", [broken if c.__name__ == "linux_mem" else c
                                                      for c in watchkeeper_agent.LINUX])
    monkeypatch.setitem(watchkeeper_agent.COLLECTORS, "linux", watchkeeper_agent.LINUX)
    split = split_sections(watchkeeper_agent.collect())  # type: ignore[no-untyped-call]
    assert "mem" not in split.sections and "df" in split.sections
    assert ["FailedCollectors:", "linux_mem(PermissionError)"] in split.sections["check_mk"]


def test_storage_tools_printing_junk_give_clear_errors_and_lose_nothing(tmp_path: Path) -> None:
    """A RAID tool that prints garbage and a zpool that fails: each section says so; the rest still comes."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "storcli64").write_text("#!/bin/sh\necho 'Segmentation fault <<<not json>>>'\nexit 139\n")
    (tools / "zpool").write_text("#!/bin/sh\necho 'internal error: failed to initialize ZFS library' >&2\nexit 1\n")
    for tool in tools.iterdir():
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    output = subprocess.run([sys.executable, str(AGENT_PATH)], check=True, capture_output=True, timeout=120,
                            env=env).stdout
    split = split_sections(output)
    megaraid = split.sections["megaraid"]
    assert ["[storcli json]"] in megaraid
    assert all(row[0].startswith("watchkeeper-error: storcli64 exited with 139") for row in megaraid[1:])
    assert any("failed to initialize ZFS library" in row[0] for row in split.sections["zfs"])
    assert "uptime" in split.sections and b"FailedCollectors" not in output
