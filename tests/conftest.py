"""Shared test helpers: real outputs kept beside the tests that use them, and how real components
may (not) skip.

Real command outputs live in `tests/plugins/<family>/fixtures/<tool>/NAME.txt`, each with
`NAME.source.md` beside it saying where it came from; whole agent outputs used across the
suite live in `tests/agent_outputs/`. Nothing here reads anything outside the repository.
"""

from __future__ import annotations

import os
import select
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from watchkeeper.checkapi import Metric, Pending, Result, StringTable
from watchkeeper.collect.sections import split_sections
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.cycle import run_host_cycle
from watchkeeper.engine.discovery import discover_in_output
from watchkeeper.model.cycles import Outcome
from watchkeeper.model.rules import Rule

REPO = Path(__file__).resolve().parents[1]
AGENT_OUTPUTS = REPO / "tests" / "agent_outputs"
IN_CI = os.environ.get("CI") == "true"
CHECKMK_1_4 = "checkmk-1.4.0i2-debian12.txt"
"""The Checkmk 1.4 agent on this machine: no container detection yet, so the classic host sections."""
CHECKMK_2_3_CONTAINER = "checkmk-2.3.0b1-debian12-container.txt"
"""The Checkmk 2.3 agent on this machine, which it takes for a container (`/.dockerenv`)."""


def fixtures(test_file: str) -> Path:
    """The `fixtures` folder beside a test module: `FIXTURES = fixtures(__file__)`."""
    return Path(test_file).resolve().parent / "fixtures"


def agent_output(name: str) -> Path:
    """A whole agent output from `tests/agent_outputs/` (its provenance in NAME.source.md)."""
    return AGENT_OUTPUTS / name


def missing(what: str) -> None:
    """A real component is not there: in CI that fails the test, elsewhere it skips it."""
    message = f"{what} is not available"
    if IN_CI:
        pytest.fail(f"{message}; CI must have it (scripts/test installs it)")
    pytest.skip(message)


def section_from_file(path: Path, name: str, header_options: str = "") -> StringTable:
    """Put a real command output behind a section header and run it through the splitter."""
    split = split_sections(f"<<<{name}{header_options}>>>\n".encode() + path.read_bytes())
    return split.sections.get(name, [])


def agent_section(name: str, section: str) -> StringTable:
    """One section of a real agent output, through the production splitter."""
    return split_sections(agent_output(name).read_bytes()).sections[section]


def outcomes(data: bytes, rules: Sequence[Rule] = (), now: float = 1_796_025_000.0) -> dict[str, Outcome]:
    """What one cycle over an agent output says, by service name, as the daemon would run it
    (discovery on the same output, then every discovered service checked)."""
    specs = discover_in_output(data, rules=list(rules))
    cycle = run_host_cycle("h", AgentOutput(data), specs, list(rules), {}, now).cycle
    return {outcome.name: outcome for outcome in cycle.outcomes}


def run_after_discovery(discovered: bytes, checked: bytes, now: float = 1_796_025_000.0) -> dict[str, Outcome]:
    """Services discovered on one agent output, checked on a later one: what changed since discovery."""
    specs = discover_in_output(discovered)
    cycle = run_host_cycle("h", AgentOutput(checked), specs, [], {}, now).cycle
    return {outcome.name: outcome for outcome in cycle.outcomes}


def results(outputs: Iterable[Result | Metric | Pending]) -> list[Result]:
    """Only the judgements of a check's output, in order."""
    return [output for output in outputs if isinstance(output, Result)]


def dies(pid: int) -> bool:
    """True once the process has ended. A SIGKILLed process closes its files a moment before it
    is gone from the process table, so wait for its pidfd (bounded) instead of looking once."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], 10.0)[0])
    finally:
        os.close(fd)


@pytest.fixture(autouse=True, scope="session")
def agent_state_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterable[None]:
    """The agent keeps its caches (and, unless configured, nothing else) in its state directory;
    every agent a test runs, in-process or as a child, keeps them in a temporary one instead
    of /var/lib/watchkeeper-agent."""
    previous = os.environ.get("WATCHKEEPER_AGENT_STATE_DIR")
    os.environ["WATCHKEEPER_AGENT_STATE_DIR"] = str(tmp_path_factory.mktemp("agent-state"))
    yield
    if previous is None:
        os.environ.pop("WATCHKEEPER_AGENT_STATE_DIR", None)
    else:
        os.environ["WATCHKEEPER_AGENT_STATE_DIR"] = previous
