"""A parsed section is kept between cycles while its text is unchanged (`parse_host`'s memo),
so no check may change what it reads: every check runs twice on every real agent output here,
and the parsed sections must be exactly as they were."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.conftest import AGENT_OUTPUTS
from watchkeeper.collect.sections import split_sections
from watchkeeper.engine.catalog import builtin_catalog
from watchkeeper.engine.checking import check_service, discover_services, parse_host

OUTPUTS = sorted(path.name for path in AGENT_OUTPUTS.glob("*.txt"))


def snapshot(value: Any, depth: int = 0) -> Any:
    """The value as nested tuples of plain data, to compare before and after."""
    if depth > 50 or isinstance(value, str | bytes | int | float | bool | type(None)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple(snapshot(getattr(value, f.name), depth + 1)
                                            for f in dataclasses.fields(value)))
    if isinstance(value, dict):
        return tuple(sorted((repr(k), snapshot(v, depth + 1)) for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        items = [snapshot(item, depth + 1) for item in value]
        return tuple(sorted(items, key=repr)) if isinstance(value, set | frozenset) else tuple(items)
    if hasattr(value, "__dict__"):
        return (type(value).__name__, tuple(sorted((k, snapshot(v, depth + 1)) for k, v in vars(value).items()
                                                   if not callable(v))))
    return repr(value)


@pytest.mark.parametrize("output", OUTPUTS)
def test_no_check_changes_the_section_it_reads(output: str) -> None:
    catalog = builtin_catalog()
    parsed = parse_host(catalog, split_sections((AGENT_OUTPUTS / output).read_bytes()))
    before = {name: snapshot(value) for name, value in parsed.sections.items()}
    specs = discover_services(catalog.plugins, parsed)
    assert specs
    stores: dict[str, dict[str, Any]] = {}
    for now in (1_790_000_000.0, 1_790_000_060.0):
        for spec in specs:
            check_service(catalog.by_name[spec.plugin], spec, parsed, {}, stores.setdefault(spec.name, {}), now)
    after = {name: snapshot(value) for name, value in parsed.sections.items()}
    changed = [name for name in before if before[name] != after[name]]
    assert changed == []
