"""A host's unchanged sections are not split or parsed again, and discovery is not re-run on
every cycle; whatever changes is read afresh, so reuse never shows stale data."""

from __future__ import annotations

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    NoParams,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
)
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.engine.catalog import make_catalog
from watchkeeper.engine.cycle import DISCOVERY_INTERVAL_S, CycleResult, run_host_cycle
from watchkeeper.model.cycles import ServiceSpec

parsed_tables: list[StringTable] = []


def parse_counting(table: StringTable) -> list[str]:
    parsed_tables.append(table)
    return [" ".join(row) for row in table]


def discover_rows(section: list[str]) -> list[Service]:
    return [Service(item=row.split()[0]) for row in section if not row.startswith("<<<")]


def check_rows(item: str, params: NoParams, section: list[str], store: ValueStore, now: float) -> CheckResult:
    yield Result(State.OK, "; ".join(section))


CATALOG = make_catalog(
    (AgentSection("main", parse_counting, companions=("extra",)), AgentSection("other", parse_counting)),
    (CheckPlugin("rows", "main", "Row %s", discover_rows, check_rows, NoParams()),))
SPECS = [ServiceSpec("Row a", "rows", "a")]


def cycle(data: bytes, now: float, before: CycleResult | None = None) -> CycleResult:
    """One cycle after `before`, handed what the daemon keeps of it."""
    return run_host_cycle("h", AgentOutput(data), SPECS, [], {}, now, catalog=CATALOG,
                          discovery=before.discovery if before else None,
                          previous=before.parsed.for_next_cycle() if before and before.parsed else None)


def test_what_is_kept_for_the_next_cycle_holds_no_parsed_value_of_a_changing_section() -> None:
    first = cycle(b"<<<main>>>\na 1\n<<<other>>>\nx 1\n", 1000.0)
    second = cycle(b"<<<main>>>\na 1\n<<<other>>>\nx 2\n", 1060.0, first)
    assert second.parsed is not None and second.parsed.sections  # the cycle itself had them all
    kept = second.parsed.for_next_cycle()
    assert not kept.sections and set(kept.memo) == {"main"}  # "other" changed: its value goes with the cycle


def test_an_unchanged_section_keeps_its_parsed_value_and_a_changed_one_is_parsed_again() -> None:
    parsed_tables.clear()
    first = cycle(b"<<<main>>>\na 1\n<<<other>>>\nx 1\n", 1000.0)
    second = cycle(b"<<<main>>>\na 1\n<<<other>>>\nx 2\n", 1060.0, first)
    assert parsed_tables == [[["a", "1"]], [["x", "1"]], [["x", "2"]]]  # main parsed once
    row_a = next(o for o in second.cycle.outcomes if o.name == "Row a")
    assert row_a.summary == "a 1"


def test_a_companion_that_changes_makes_its_section_parsed_again_in_full() -> None:
    parsed_tables.clear()
    first = cycle(b"<<<main>>>\na 1\n<<<extra>>>\ne 1\n", 1000.0)
    second = cycle(b"<<<main>>>\na 1\n<<<extra>>>\ne 2\n", 1060.0, first)
    assert parsed_tables[-1] == [["a", "1"], ["<<<extra>>>"], ["e", "2"]]
    assert next(o for o in second.cycle.outcomes if o.name == "Row a").summary == "a 1; <<<extra>>>; e 2"


def test_discovery_is_reused_until_a_section_appears_or_its_interval_passes() -> None:
    first = cycle(b"<<<main>>>\na 1\n", 1000.0)
    grown = b"<<<main>>>\na 1\nb 1\n"
    second = cycle(grown, 1060.0, first)
    assert second.discovered == first.discovered  # the same sections: not discovered again yet
    later = cycle(grown, 1000.0 + DISCOVERY_INTERVAL_S, second)
    assert [spec.item for spec in later.discovered or []] == ["a", "b"]
    found = next(o for o in later.cycle.outcomes if o.name == "Service discovery")
    assert found.state == State.WARN and "Row b" in found.summary
    new_section = cycle(b"<<<main>>>\na 1\nb 1\n<<<other>>>\nx 1\n", 1120.0, second)
    assert [spec.item for spec in new_section.discovered or []] == ["a", "b"]


def test_a_section_that_changes_every_time_is_not_kept_between_cycles() -> None:
    first = cycle(b"<<<main>>>\na 1\n<<<other>>>\nx 1\n", 1000.0)
    second = cycle(b"<<<main>>>\na 1\n<<<other>>>\nx 2\n", 1060.0, first)
    assert second.parsed is not None and set(second.parsed.memo) == {"main"}  # a host keeps what is stable
    third = cycle(b"<<<main>>>\na 1\n<<<other>>>\nx 2\n", 1120.0, second)
    assert third.parsed is not None and set(third.parsed.memo) == {"main", "other"}  # stable again: kept


def test_an_ignored_service_is_not_offered_and_the_discovery_service_counts_it() -> None:
    output = AgentOutput(b"<<<main>>>\na 1\nb 1\nc 1\n")
    result = run_host_cycle("h", output, SPECS, [], {}, 1000.0, catalog=CATALOG, ignored=frozenset({"Row b"}))
    found = next(o for o in result.cycle.outcomes if o.name == "Service discovery")
    assert found.state == State.WARN and "Row c" in found.summary and "Row b" not in found.summary
    assert "1 ignored" in found.summary
    all_left_out = run_host_cycle("h", output, SPECS, [], {}, 1000.0, catalog=CATALOG,
                                  ignored=frozenset({"Row b", "Row c", "Row gone"}))
    settled = next(o for o in all_left_out.cycle.outcomes if o.name == "Service discovery")
    assert settled.state == State.OK and settled.summary.endswith("monitored, 2 ignored")
