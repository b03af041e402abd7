"""Answer a parsed GET: filter, aggregate, limit and format rows from a store snapshot.

Regular expressions in filters come from whoever may connect, so they run on RE2 (the
`google-re2` package), whose matching time grows linearly with the text: `^(a|aa)+$` cannot
hold the server. Python's `re` is not used for them at all; a pattern RE2 cannot run
(backreferences, lookaround) is refused with the reason. Every query also has a time limit
(`Timelimit:`, at most MAX_TIME_LIMIT_S), checked while rows are filtered and counted.
"""

from __future__ import annotations

import json
import math
import operator
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]

from watchkeeper.livestatus.query import Aggregate, Combine, Compare, LivestatusError, Node, Query
from watchkeeper.livestatus.snapshot import Snapshot
from watchkeeper.livestatus.tables import COLUMN_INDEX, PREFIXES, Column, rows_of

Matcher = Callable[[Any], bool]
DEFAULT_TIME_LIMIT_S = 10.0
MAX_TIME_LIMIT_S = 60.0
CHECK_EVERY = 256
"""Rows between two looks at the clock."""
clock = time.monotonic


class Pattern(Protocol):
    def search(self, text: str) -> object: ...


_NUMERIC: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}


def answer(query: Query, snapshot: Snapshot) -> tuple[int, str]:
    """(status code, body) for a GET; errors come back as LivestatusError."""
    if query.table not in COLUMN_INDEX:
        raise LivestatusError(404, f"Invalid GET request, no such table '{query.table}'")
    columns = COLUMN_INDEX[query.table]
    wanted = [_column(query.table, columns, name) for name in query.columns]
    match = _all([_matcher(query.table, columns, node) for node in query.filters])
    limit_s = min(query.time_limit or DEFAULT_TIME_LIMIT_S, MAX_TIME_LIMIT_S)
    deadline = clock() + limit_s
    rows = [row for row in _timed(rows_of(query.table, snapshot, _log_since(query)), deadline, limit_s)
            if match(row)]
    headers = query.column_headers
    if query.stats:
        table = _stats(query, columns, wanted, _timed(rows, deadline, limit_s))
        names = [c.name for c in wanted] + [f"stats_{i + 1}" for i in range(len(query.stats))]
    else:
        if not wanted:
            wanted = list(columns.values())
            headers = True if headers is None else headers
        if query.limit is not None:
            rows = rows[:query.limit]
        getters = [_integral_floats(column.get) if column.type == "float" else column.get for column in wanted]
        table = [[get(row) for get in getters] for row in rows]
        names = [c.name for c in wanted]
    if headers:
        table.insert(0, names)
    return 200, _format(query, table)


def _timed(rows: Iterable[Any], deadline: float, limit_s: float) -> Iterator[Any]:
    for index, row in enumerate(rows):
        if index % CHECK_EVERY == 0 and clock() > deadline:
            raise LivestatusError(452, f"the query ran longer than its time limit of {limit_s:g} s and was "
                                       "stopped; narrow it with filters, or allow more with Timelimit: (at most "
                                       f"{MAX_TIME_LIMIT_S:g} s)")
        yield row


def _log_since(query: Query) -> float:
    """The log can be long: read only from the earliest time a top-level filter allows."""
    since = 0.0
    for node in query.filters:
        if isinstance(node, Compare) and node.column == "time" and node.op in (">", ">="):
            try:
                since = max(since, float(node.value))
            except ValueError:
                pass  # reported as a bad filter when it is evaluated
    return since


def _column(table: str, columns: dict[str, Column], name: str) -> Column:
    column = columns.get(name)
    prefix = PREFIXES.get(table, "")
    if column is None and prefix and name.startswith(prefix):
        column = columns.get(name[len(prefix):])  # as in Livestatus: `host_name` in hosts is `name`
    if column is None:
        raise LivestatusError(450, f"Table '{table}' has no column '{name}'")
    return column


def _all(matchers: list[Matcher]) -> Matcher:
    if not matchers:
        return lambda row: True
    if len(matchers) == 1:
        return matchers[0]
    return lambda row: all(m(row) for m in matchers)


def _matcher(table: str, columns: dict[str, Column], node: Node) -> Matcher:
    if isinstance(node, Combine):
        parts = [_matcher(table, columns, part) for part in node.parts]
        if node.kind == "not":
            return lambda row: not parts[0](row)
        if node.kind == "or":
            return lambda row: any(p(row) for p in parts)
        return _all(parts)
    column = _column(table, columns, node.column)
    get, op, value = column.get, node.op, node.value
    negated = op.startswith("!") and op != "!="
    if negated:
        op = op[1:]
    if column.type in ("int", "float", "time"):
        test = _numeric(node, op, value)
        return lambda row: test(get(row))
    if column.type == "list":
        test = _list_test(node, op, value)
    elif column.type == "dict":
        test = _dict_test(node, op, value)
    else:
        test = _string_test(node, op, value)
    if negated:
        return lambda row: not test(get(row))
    return lambda row: test(get(row))


def _numeric(node: Compare, op: str, value: str) -> Callable[[Any], bool]:
    if op not in _NUMERIC:
        raise LivestatusError(400, f"operator {node.op!r} does not work on the number column '{node.column}'")
    try:
        number = float(value) if value else 0.0
    except ValueError:
        raise LivestatusError(400, f"'{node.column}' is a number column; {value!r} is not a number") from None
    compare = _NUMERIC[op]
    return lambda cell: compare(float(cell), number)


def _regex(node: Compare, value: str, ignore_case: bool = False) -> Pattern:
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not ignore_case
    try:
        pattern: Pattern = re2.compile(value, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise LivestatusError(400, f"invalid regular expression {value!r} in the filter on '{node.column}': "
                                   f"{reason} (Watchkeeper runs filters on RE2: no backreferences or "
                                   "lookaround)") from None
    return pattern


def _string_test(node: Compare, op: str, value: str) -> Callable[[Any], bool]:
    if op in _NUMERIC:
        compare = _NUMERIC[op]
        return lambda cell: compare(str(cell), value)
    if op == "~":
        pattern = _regex(node, value)
        return lambda cell: pattern.search(str(cell)) is not None
    if op == "~~":
        pattern = _regex(node, value, ignore_case=True)
        return lambda cell: pattern.search(str(cell)) is not None
    folded = value.casefold()  # =~
    return lambda cell: str(cell).casefold() == folded


def _list_test(node: Compare, op: str, value: str) -> Callable[[Any], bool]:
    if op == "=":
        if value:
            raise LivestatusError(400, f"'{node.column}' is a list: '=' only tests for an empty list")
        return lambda cell: not cell
    if op == "!=":
        return lambda cell: bool(cell) if not value else value not in cell
    if op == ">=":
        return lambda cell: value in cell
    if op == "<":
        return lambda cell: value not in cell
    if op in ("<=", "=~"):
        folded = value.casefold()
        return lambda cell: any(str(item).casefold() == folded for item in cell)
    if op == ">":
        folded = value.casefold()
        return lambda cell: not any(str(item).casefold() == folded for item in cell)
    pattern = _regex(node, value, ignore_case=op == "~~")
    return lambda cell: any(pattern.search(str(item)) is not None for item in cell)


def _dict_test(node: Compare, op: str, value: str) -> Callable[[Any], bool]:
    key, _, wanted = value.partition(" ")
    inner = _string_test(node, op, wanted.strip())
    return lambda cell: key in cell and inner(cell[key])


def _stats(query: Query, columns: dict[str, Column], wanted: list[Column], rows: Iterable[Any]) -> list[list[Any]]:
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        key = tuple(_hashable(column.get(row)) for column in wanted)
        groups.setdefault(key, []).append(row)
    if not wanted:
        groups.setdefault((), [])
    computed: list[Callable[[list[Any]], Any]] = []
    for stat in query.stats:
        if isinstance(stat, Aggregate):
            computed.append(_aggregate(stat, _column(query.table, columns, stat.column)))
        else:
            computed.append(_counter(_matcher(query.table, columns, stat)))
    table = [[*key, *(compute(group) for compute in computed)] for key, group in groups.items()]
    return table[:query.limit] if query.limit is not None else table


def _counter(match: Matcher) -> Callable[[list[Any]], int]:
    return lambda group: sum(1 for row in group if match(row))


def _aggregate(stat: Aggregate, column: Column) -> Callable[[list[Any]], Any]:
    if column.type not in ("int", "float", "time"):
        raise LivestatusError(400, f"Stats: {stat.function} needs a number column; '{column.name}' is a "
                                   f"{column.type}")
    get = column.get

    def compute(group: list[Any]) -> float:
        values = [float(get(row)) for row in group]
        if not values:
            return 0.0
        if stat.function == "sum":
            return sum(values)
        if stat.function == "min":
            return min(values)
        if stat.function == "max":
            return max(values)
        if stat.function == "avg":
            return sum(values) / len(values)
        if stat.function == "suminv":
            return sum(1 / v for v in values if v)
        if stat.function == "avginv":
            return sum(1 / v for v in values if v) / len(values)
        mean = sum(values) / len(values)  # std
        return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return compute


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value


def _integral_floats(get: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A float column's whole numbers as integers (`5` minutes, not `5.0`), as Livestatus prints them."""
    def value(row: Any) -> Any:
        cell = get(row)
        return int(cell) if isinstance(cell, float) and cell.is_integer() else cell
    return value


def _format(query: Query, table: list[list[Any]]) -> str:
    if query.output_format == "json":
        # Rows of plain columns need no pass of their own: json writes tuples as arrays, and float
        # columns already give whole numbers as integers. Stats rows (aggregates) get the pass.
        plain = [[_plain(cell) for cell in row] for row in table] if query.stats else table
        return json.dumps(plain, ensure_ascii=False) + "\n"
    if query.output_format.startswith("python"):
        return repr([[_plain(cell) for cell in row] for row in table]) + "\n"
    rows_sep, field_sep, list_sep, pair_sep = query.separators
    lines = []
    for row in table:
        cells = []
        for cell in row:
            if isinstance(cell, list | tuple):
                cells.append(list_sep.join(str(item) for item in cell))
            elif isinstance(cell, dict):
                cells.append(list_sep.join(f"{k}{pair_sep}{v}" for k, v in cell.items()))
            else:
                cells.append(_scalar(cell))
        lines.append(field_sep.join(cells) + rows_sep)
    return "".join(lines)


def _plain(cell: Any) -> Any:
    if isinstance(cell, tuple):
        return list(cell)
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


def _scalar(cell: Any) -> str:
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    return str(cell)
