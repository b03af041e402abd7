"""Log files: the agent reads what is new (through rotation and truncation, in bounded memory),
classifies it by its rules, and the check keeps problems until they are acknowledged.

The lines are real: this machine's /var/log/dpkg.log, and a hypervisor line quoted from the
users' blog the product was built from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import agent_section, missing, outcomes, results
from watchkeeper.checkapi import Result, State, ValueStore
from watchkeeper.collect.local import AGENT_PATH
from watchkeeper.collect.sections import split_sections
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.cycle import run_host_cycle
from watchkeeper.model.cycles import AGENT_SERVICE, ServiceSpec
from watchkeeper.plugins.logwatch.logwatch import LogwatchParams, check_logwatch, parse_logwatch

# As quoted in the seeds; the blog shortened it with … and typeset the quotes, restored here.
XAPI = '[2012…|debug|xs1|14262 inet-RPC|dispatch:logout D:…|dispatcher] Unknown rpc "logout"'
RULES = [["I", 'Unknown rpc "logout"'], ["C", r"\bremove\b"], ["W", "half-configured"], ["O", "status installed"]]


@pytest.fixture
def dpkg_lines() -> list[str]:
    path = Path("/var/log/dpkg.log")
    if not path.exists():
        missing("/var/log/dpkg.log (a Debian machine that has installed packages)")
    lines = path.read_text(errors="replace").splitlines()
    if not any("half-configured" in line for line in lines):
        missing("half-configured lines in /var/log/dpkg.log")
    return lines


class Agent:
    def __init__(self, tmp: Path, log: Path, **settings: object) -> None:
        self.config = tmp / "agent.json"
        self.state = tmp / "logwatch.json"
        self.config.write_text(json.dumps({"logwatch": {"files": [{"path": str(log), "rules": RULES}],
                                                        "state_file": str(self.state), **settings}}))

    def run(self) -> dict[str, list[str]]:
        output = subprocess.run([sys.executable, str(AGENT_PATH), "--config", str(self.config)], check=True,
                                capture_output=True, timeout=300).stdout
        files: dict[str, list[str]] = {}
        current = ""
        for row in split_sections(output).sections["logwatch"]:
            if row[0].startswith("[[["):
                current = row[0]
                files[current] = []
            else:
                files[current].append(row[0])
        return files


def append(path: Path, lines: list[str]) -> None:
    with path.open("a") as handle:
        handle.write("".join(line + "\n" for line in lines))


def expected(lines: list[str]) -> list[str]:
    """What RULES make of these lines, first match wins."""
    out = []
    for line in lines:
        if 'Unknown rpc "logout"' in line:
            continue
        for level, word in (("C", " remove "), ("W", "half-configured"), ("O", "status installed")):
            if word in line + " ":
                out.append(f"{level} {line}")
                break
    return out


def test_a_new_log_is_read_from_its_end_then_only_new_lines_are_classified(tmp_path: Path,
                                                                           dpkg_lines: list[str]) -> None:
    log = tmp_path / "dpkg.log"
    append(log, dpkg_lines[:500])
    agent = Agent(tmp_path, log)
    assert agent.run() == {f"[[[{log}]]]": []}  # history is not news
    new = dpkg_lines[500:1500] + [XAPI]
    append(log, new)
    assert agent.run()[f"[[[{log}]]]"] == expected(new)
    assert json.loads(agent.state.read_text())[str(log)] == {"inode": log.stat().st_ino,
                                                             "offset": log.stat().st_size}
    assert agent.run() == {f"[[[{log}]]]": []}


def test_a_rotated_log_is_read_to_its_end_before_the_new_file(tmp_path: Path, dpkg_lines: list[str]) -> None:
    log = tmp_path / "dpkg.log"
    append(log, dpkg_lines[:100])
    agent = Agent(tmp_path, log)
    agent.run()
    before, after = dpkg_lines[100:800], dpkg_lines[800:1600]
    append(log, before)
    log.rename(tmp_path / "dpkg.log.1")
    append(log, after)
    assert agent.run()[f"[[[{log}]]]"] == expected(before) + expected(after)


def test_a_truncated_log_is_read_from_its_start(tmp_path: Path, dpkg_lines: list[str]) -> None:
    log = tmp_path / "dpkg.log"
    append(log, dpkg_lines[:2000])
    agent = Agent(tmp_path, log)
    agent.run()
    log.write_text("")
    append(log, dpkg_lines[2000:2300])
    assert log.stat().st_size < json.loads(agent.state.read_text())[str(log)]["offset"]
    assert agent.run()[f"[[[{log}]]]"] == expected(dpkg_lines[2000:2300])


def test_a_line_still_being_written_waits_for_its_end(tmp_path: Path, dpkg_lines: list[str]) -> None:
    log = tmp_path / "dpkg.log"
    log.write_text("")
    agent = Agent(tmp_path, log)
    agent.run()
    line = next(line for line in dpkg_lines if "half-configured" in line)
    with log.open("a") as handle:
        handle.write(line[:20])
    assert agent.run()[f"[[[{log}]]]"] == []
    with log.open("a") as handle:
        handle.write(line[20:] + "\n")
    assert agent.run()[f"[[[{log}]]]"] == [f"W {line}"]


def test_rules_with_flags_work_and_broken_rules_are_reported(tmp_path: Path, dpkg_lines: list[str]) -> None:
    log = tmp_path / "dpkg.log"
    log.write_text("")
    agent = Agent(tmp_path, log)
    config = json.loads(agent.config.read_text())
    config["logwatch"]["files"][0]["rules"] = [["C", "(?i)HALF-CONFIGURED"], ["W", "a(?s)b"], ["X", "y"]]
    agent.config.write_text(json.dumps(config))
    agent.run()
    line = next(line for line in dpkg_lines if "half-configured" in line)
    append(log, [line])
    assert agent.run()[f"[[[{log}]]]"] == [
        "W watchkeeper-agent: rule 'a(?s)b' is not a valid regular expression; it is skipped",
        "W watchkeeper-agent: rule ['X', 'y'] is not [LEVEL, REGEX] with LEVEL one of C W O I; it is skipped",
        f"C {line}"]


def test_a_missing_log_is_reported_not_fatal(tmp_path: Path) -> None:
    agent = Agent(tmp_path, tmp_path / "nope.log")
    assert agent.run() == {f"[[[{tmp_path / 'nope.log'}:missing]]]": []}


@pytest.mark.slow
def test_a_1_gb_log_is_read_in_bounded_memory_with_correct_offsets(tmp_path: Path, dpkg_lines: list[str]) -> None:
    log = tmp_path / "big.log"
    block = ("\n".join(dpkg_lines) + "\n").encode()
    matching = len(expected(dpkg_lines))
    agent = Agent(tmp_path, log, max_bytes=600 * 1024 * 1024, max_lines=100)
    log.write_bytes(b"")
    agent.run()
    with log.open("ab") as handle:
        for _ in range((1 << 30) // len(block) + 1):
            handle.write(block)
    size = log.stat().st_size
    blocks = size // len(block)
    # The agent's own peak memory is VmHWM of its process image: getrusage's maxrss would also
    # count the pytest process it was forked from.
    measured = subprocess.run([sys.executable, "-c", PEAK, str(AGENT_PATH), "--config", str(agent.config)],
                              capture_output=True, timeout=300, check=True)
    output = measured.stdout
    peak_kib = int(measured.stderr.decode().split("VmHWM:")[1].split()[0])
    assert peak_kib < 64 * 1024  # the agent streams, whatever the log's size
    offset = json.loads(agent.state.read_text())[str(log)]["offset"]
    with log.open("rb") as handle:
        handle.seek(offset - 1)
        assert offset <= 600 * 1024 * 1024 and handle.read(1) == b"\n"  # stopped at the end of a line
    rows = split_sections(output).sections["logwatch"]
    assert len(rows) == 1 + 100 + 1 and "more matching lines were not sent (max_lines 100)" in rows[-1][0]
    second = agent.run()[f"[[[{log}]]]"]  # the rest, next time
    assert json.loads(agent.state.read_text())[str(log)]["offset"] == size
    assert int(second[-1].split()[2]) + 100 + int(rows[-1][0].split()[2]) + 100 == matching * blocks


PEAK = """
import runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write(open("/proc/self/status").read())
"""


def test_the_check_keeps_problems_until_acknowledged() -> None:
    parsed = parse_logwatch([["[[[/var/log/xensource.log]]]"], [f"W {XAPI}"], ["C sda: I/O error, sector 1234"],
                             ["O xapi started"], ["[[[/var/log/gone:missing]]]"]])
    store: ValueStore = {}
    first = list(check_logwatch("/var/log/xensource.log", LogwatchParams(), parsed, store, 100.0))
    assert first == [Result(State.CRIT, "1 CRIT, 1 WARN not acknowledged; latest CRIT: sda: I/O error, sector 1234",
                            details=f"WARN {XAPI}\nCRIT sda: I/O error, sector 1234")]
    quiet = {"/var/log/xensource.log": parse_logwatch([["[[[/var/log/xensource.log]]]"]])["/var/log/xensource.log"]}
    again = list(check_logwatch("/var/log/xensource.log", LogwatchParams(), quiet, store, 160.0))
    assert isinstance(again[0], Result) and again[0].state == State.CRIT  # nothing new, but nobody has looked yet
    cleared = list(check_logwatch("/var/log/xensource.log", LogwatchParams(acknowledged_at=150.0), quiet, store,
                                  220.0))
    assert cleared == [Result(State.OK, "no unacknowledged messages")]
    gone = list(check_logwatch("/var/log/gone", LogwatchParams(), parsed, {}, 100.0))
    assert gone[0] == Result(State.WARN, "the agent cannot read /var/log/gone: it does not exist")


def test_server_side_rules_drop_chatty_lines_and_raise_real_ones() -> None:
    parsed = parse_logwatch([["[[[/var/log/libvirt.log]]]"], [f"W {XAPI}"], ["O qemu: guest web3 crashed"]])
    params = LogwatchParams(reclassify=(("IGNORE", r'Unknown rpc "logout"'), ("CRIT", r"guest \S+ crashed")))
    [result] = results(check_logwatch("/var/log/libvirt.log", params, parsed, {}, 1.0))
    assert result.summary == "1 CRIT not acknowledged; latest CRIT: qemu: guest web3 crashed"


def test_kept_messages_are_bounded_dropping_warnings_first() -> None:
    lines = [["[[[/l]]]"], ["C disk failed"]] + [[f"W chatter {i}"] for i in range(500)]
    store: ValueStore = {}
    result = list(check_logwatch("/l", LogwatchParams(keep=50), parse_logwatch(lines), store, 1.0))
    assert isinstance(result[0], Result) and result[0].summary.startswith("1 CRIT, 49 WARN not acknowledged")
    kept = store["messages"]
    assert isinstance(kept, list) and len(kept) == 50


def test_an_acknowledgement_reaches_the_check_through_the_cycle() -> None:
    output = AgentOutput(b"<<<logwatch:sep(0)>>>\n[[[/l]]]\nC disk failed\n")
    spec = ServiceSpec("Log /l", "logwatch", "/l")
    stores: dict[str, dict[str, Any]] = {}
    first = run_host_cycle("h", output, [spec], [], stores, 10.0).cycle.outcomes
    assert [o.state for o in first if o.name == "Log /l"] == [2]
    quiet = AgentOutput(b"<<<logwatch:sep(0)>>>\n[[[/l]]]\n")
    acked = run_host_cycle("h", quiet, [spec], [], stores, 20.0,
                           acknowledged={"Log /l": 15.0}).cycle.outcomes
    assert [o.state for o in acked if o.name == "Log /l"] == [0]


@given(st.lists(st.lists(st.text(max_size=40), min_size=1, max_size=1), max_size=30))
def test_parse_logwatch_never_crashes_on_mangled_output(table: list[list[str]]) -> None:
    parse_logwatch(table)


CHECKMK_DEGRADED = "checkmk-2.3.0b1-debian12-degraded.txt"


def test_checkmk_mk_logwatch_lines_are_classified_and_context_lines_are_not_judged() -> None:
    files = parse_logwatch(agent_section(CHECKMK_DEGRADED, "logwatch"))
    assert files["/var/log/no-such-application/*.log"].status == "missing"
    dpkg = files["/var/log/dpkg.log"]
    assert {state for state, _ in dpkg.lines} == {State.WARN, State.OK}
    assert (State.WARN, "2026-11-30 07:49:01 status half-configured hostname:amd64 3.23+nmu1") in dpkg.lines
    assert not any("startup archives unpack" in text for _, text in dpkg.lines)  # a `.` context line


def test_mk_logwatch_that_cannot_read_its_configuration_is_named_on_the_agent_service() -> None:
    raw = (Path(__file__).parent / "fixtures" / "mk_logwatch" / "invalid_level_in_config.txt").read_bytes()
    seen = outcomes(b"<<<check_mk>>>\nVersion: 2.1.0i1\n" + raw)
    assert seen[AGENT_SERVICE].state == State.WARN
    assert "CANNOT READ CONFIG FILE: Invalid level in pattern line" in seen[AGENT_SERVICE].summary
