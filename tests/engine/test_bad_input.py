"""Bad agent output costs the affected services only, with a reason; nothing raises."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import agent_output
from watchkeeper.checkapi import AgentSection, CheckPlugin, CheckResult, NoParams, Result, Service, State, StringTable
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.engine.cycle import run_host_cycle
from watchkeeper.engine.discovery import discover_in_output
from watchkeeper.errors import AgentUnreachable
from watchkeeper.model.cycles import AGENT_SERVICE, Outcome, ServiceSpec
from watchkeeper.model.states import PENDING

REAL = agent_output("checkmk-1.4.0i2-debian12.txt").read_bytes()
SPECS = discover_in_output(REAL)


def outcomes(data: bytes, truncated: bool = False) -> dict[str, Outcome]:
    cycle = run_host_cycle("h", AgentOutput(data, truncated, limit=len(data)), SPECS, [], {}, 1000.0).cycle
    return {o.name: o for o in cycle.outcomes}


def test_the_real_output_checks_clean() -> None:
    assert {o.state for o in outcomes(REAL).values()} <= {0, PENDING}


def test_truncated_output_keeps_the_earlier_sections_and_names_the_missing_ones() -> None:
    cut = REAL[: REAL.index(b"<<<cpu>>>") + 20]
    result = outcomes(cut, truncated=True)
    assert result["Memory"].state == State.OK
    assert result["Filesystem /"].state == State.OK
    assert result["Disk IO vda"].state == State.UNKNOWN
    assert result["Disk IO vda"].summary == ("section <<<diskstat>>> is missing from the agent output "
                                             f"(the output was cut at the {len(cut) / 1024:.2f} KiB limit)")
    assert result[AGENT_SERVICE].state == State.UNKNOWN
    assert result[AGENT_SERVICE].summary.startswith("agent output was cut at the")


def test_binary_garbage_is_an_agent_problem_not_a_crash() -> None:
    result = outcomes(bytes(range(256)) * 100)
    assert result[AGENT_SERVICE].state == State.CRIT
    assert result["Memory"].state == State.UNKNOWN


def test_section_header_without_body_means_missing_section() -> None:
    result = outcomes(REAL.replace(b"<<<mem>>>\n", b"<<<mem>>>\n<<<ignored_block>>>\n"))
    assert result["Memory"].summary == "section <<<mem>>> is missing from the agent output"


def test_sections_nothing_interprets_are_named_on_the_agent_service() -> None:
    result = outcomes(REAL + b"<<<frobnicator>>>\n1 2 3\n<<<wibble:sep(9)>>>\na\tb\n")
    agent = result[AGENT_SERVICE]
    assert agent.state == State.OK and " not interpreted: " in agent.summary
    assert "frobnicator" in agent.details and "wibble" in agent.details
    assert "frobnicator" in agent.details and "wibble" in agent.details


def raising_check(item: str, params: NoParams, section: StringTable, store: object, now: float) -> CheckResult:
    raise ZeroDivisionError("division by zero")
    yield  # pragma: no cover


def test_a_plugin_that_raises_is_unknown_with_the_reason_and_others_are_unaffected() -> None:
    broken = CheckPlugin("broken", "raw_mem", "Broken", lambda s: [Service()], raising_check, NoParams())
    catalog = builtin_catalog().with_extra((AgentSection("mem", lambda t: t, parsed_section="raw_mem"),), (broken,))
    specs = discover_in_output(REAL, catalog=catalog)
    cycle = run_host_cycle("h", AgentOutput(REAL), specs, [], {}, 1000.0, catalog=catalog).cycle
    result = {o.name: o for o in cycle.outcomes}
    assert result["Broken"].state == State.UNKNOWN
    assert result["Broken"].summary.startswith("check crashed: ZeroDivisionError: division by zero")
    assert result["Memory"].state == State.OK


def test_a_parser_that_raises_costs_only_its_services() -> None:
    def bad_parse(table: StringTable) -> object:
        raise IndexError("list index out of range")

    broken: CheckPlugin[object, NoParams] = CheckPlugin("broken", "broken_uptime", "Broken", lambda s: [Service()],
                         lambda *a: iter([Result(State.OK, "")]), NoParams())
    catalog = builtin_catalog().with_extra((AgentSection("uptime", bad_parse, parsed_section="broken_uptime"),),
                                           (broken,))
    cycle = run_host_cycle("h", AgentOutput(REAL), [*SPECS, ServiceSpec("Broken", "broken", "")], [], {}, 1000.0,
                           catalog=catalog).cycle
    result = {o.name: o for o in cycle.outcomes}
    assert result["Broken"].summary == "parser of <<<uptime>>> crashed: IndexError: list index out of range"
    assert result["Uptime"].state == State.OK
    assert result[AGENT_SERVICE].state == State.WARN
    assert "parser of <<<uptime>>> crashed" in result[AGENT_SERVICE].summary


def test_unreachable_host_makes_every_service_stale_unknown_with_its_age() -> None:
    error = AgentUnreachable("h: cannot connect to the agent at 10.0.0.1:6556: Connection refused")
    cycle = run_host_cycle("h", error, SPECS, [], {}, 1000.0, last_ok=1000.0 - 300).cycle
    assert not cycle.up
    agent, *services = cycle.outcomes
    assert agent.state == State.CRIT and "Connection refused" in agent.summary
    assert all(o.state == State.UNKNOWN and o.stale for o in services)
    assert services[0].summary == "stale: no fresh data for 5 minutes because the host is DOWN"


def test_shell_metacharacters_in_items_stay_plain_text(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = f"/mnt/$(touch {marker});`touch {marker}`|x"
    escaped = hostile.replace(" ", "\\040")  # as /proc/mounts writes a space
    data = REAL.replace(b"<<<mounts>>>\n", f"<<<mounts>>>\n/dev/sdb1 {escaped} ext4 rw 0 0\n".encode())
    specs = discover_in_output(data)
    cycle = run_host_cycle("h", AgentOutput(data), specs, [], {}, 1000.0).cycle
    assert f"Mount options {hostile}" in {o.name for o in cycle.outcomes}
    assert not marker.exists()


def test_hundreds_of_megabytes_of_one_line_do_not_blow_up_parsing() -> None:
    data = REAL + b"<<<mem>>>\n" + b"x" * (20 * 1024 * 1024) + b"\n"
    assert outcomes(data)["Memory"].state == State.OK
