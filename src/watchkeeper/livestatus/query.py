"""Livestatus requests: `GET table` or `COMMAND [time] NAME;args`, then header lines up to a
blank line. Parsing is separate from answering so that every malformed request gets its
Livestatus error code, and nothing reaches the store until the request is understood.

Filters and stats are kept as a small expression tree built with the protocol's stack
operations (`And: n`, `Or: n`, `Negate:`; `StatsAnd`, `StatsOr`, `StatsNegate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

OPERATORS = ("=", "!=", "<", ">", "<=", ">=", "~", "~~", "=~", "!~", "!~~", "!=~")
AGGREGATES = ("sum", "min", "max", "avg", "std", "suminv", "avginv")
FORMATS = ("csv", "json", "python", "python3")


class LivestatusError(Exception):
    """An answer with a Livestatus status code instead of data."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Compare:
    column: str
    op: str
    value: str


@dataclass(frozen=True, slots=True)
class Combine:
    kind: str
    """and, or, not"""
    parts: tuple[Node, ...]


Node = Compare | Combine


@dataclass(frozen=True, slots=True)
class Aggregate:
    function: str
    column: str


Stat = Node | Aggregate


@dataclass(slots=True)
class Query:
    table: str
    columns: list[str] = field(default_factory=list)
    filters: list[Node] = field(default_factory=list)
    stats: list[Stat] = field(default_factory=list)
    limit: int | None = None
    output_format: str = "csv"
    column_headers: bool | None = None
    fixed16: bool = False
    keepalive: bool = False
    separators: tuple[str, str, str, str] = ("\n", ";", ",", "|")
    time_limit: float | None = None
    """Seconds the query may run (`Timelimit:`)."""


@dataclass(slots=True)
class Command:
    name: str
    args: list[str]
    keepalive: bool = False


def parse_request(text: str) -> Query | Command:
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise LivestatusError(400, "empty request")
    first = lines[0]
    if first.startswith("COMMAND "):
        body = first[len("COMMAND "):].strip()
        if body.startswith("["):
            body = body.split("]", 1)[1].strip() if "]" in body else ""
        name, _, rest = body.partition(";")
        if not name:
            raise LivestatusError(400, f"invalid command line {first!r}: write COMMAND [time] NAME;args")
        keepalive = any(line.strip().lower() == "keepalive: on" for line in lines[1:])
        return Command(name.strip(), rest.split(";") if rest else [], keepalive)
    if not first.startswith("GET "):
        raise LivestatusError(400, f"invalid request method in {first!r}: use GET or COMMAND")
    query = Query(first[4:].strip())
    if not query.table:
        raise LivestatusError(400, "GET names no table")
    for line in lines[1:]:
        if not line:
            break
        _header(query, line)
    return query


def _header(query: Query, line: str) -> None:
    name, sep, value = line.partition(":")
    if not sep:
        raise LivestatusError(400, f"invalid header line {line!r}: expected Name: value")
    name, value = name.strip(), value.strip()
    if name == "Columns":
        query.columns = value.split()
    elif name == "Filter":
        query.filters.append(_compare(value))
    elif name in ("And", "Or"):
        _combine(query.filters, name.lower(), _count(name, value, len(query.filters)), name)
    elif name == "Negate":
        _negate(query.filters, name)
    elif name == "Stats":
        query.stats.append(_stat(value))
    elif name in ("StatsAnd", "StatsOr"):
        _combine(query.stats, name[5:].lower(), _count(name, value, len(query.stats)), name)  # type: ignore[arg-type]
    elif name == "StatsNegate":
        _negate(query.stats, name)  # type: ignore[arg-type]
    elif name == "Limit":
        query.limit = _count(name, value, None)
    elif name == "OutputFormat":
        if value not in FORMATS:
            raise LivestatusError(400, f"invalid output format {value!r}; use {', '.join(FORMATS)}")
        query.output_format = value
    elif name == "ColumnHeaders":
        query.column_headers = _on_off(name, value)
    elif name == "ResponseHeader":
        if value not in ("fixed16", "off"):
            raise LivestatusError(400, f"invalid response header {value!r}; use fixed16 or off")
        query.fixed16 = value == "fixed16"
    elif name == "KeepAlive":
        query.keepalive = _on_off(name, value)
    elif name == "Separators":
        codes = value.split()
        if len(codes) != 4 or not all(code.isdecimal() and int(code) < 256 for code in codes):
            raise LivestatusError(400, "Separators needs four ASCII codes, e.g. Separators: 10 59 44 124")
        query.separators = tuple(chr(int(code)) for code in codes)  # type: ignore[assignment]
    elif name == "Timelimit":
        query.time_limit = float(_count(name, value, None)) or None
    elif name in ("AuthUser", "Localtime", "WaitTimeout", "WaitTrigger", "WaitObject", "WaitCondition"):
        pass  # accepted for compatibility: no per-user views, and queries are answered at once
    else:
        raise LivestatusError(400, f"undefined request header {name!r}")


def _compare(value: str) -> Compare:
    parts = value.split(None, 2)
    if len(parts) < 2:
        raise LivestatusError(400, f"invalid filter {value!r}: write column operator value")
    column, op = parts[0], parts[1]
    if op not in OPERATORS:
        raise LivestatusError(400, f"invalid filter operator {op!r}; use one of {' '.join(OPERATORS)}")
    return Compare(column, op, parts[2] if len(parts) > 2 else "")


def _stat(value: str) -> Stat:
    parts = value.split()
    if len(parts) == 2 and parts[0] in AGGREGATES:
        return Aggregate(parts[0], parts[1])
    return _compare(value)


def _count(name: str, value: str, available: int | None) -> int:
    if not value.isdecimal():
        raise LivestatusError(400, f"{name} needs a whole number, not {value!r}")
    number = int(value)
    if available is not None and number > available:
        raise LivestatusError(400, f"{name}: {number} combines more than the {available} filters before it")
    return number


def _combine(stack: list[Node], kind: str, count: int, name: str) -> None:
    parts = tuple(stack[len(stack) - count:]) if count else ()
    if any(isinstance(part, Aggregate) for part in parts):
        raise LivestatusError(400, f"{name} cannot combine aggregates (sum, min, ...)")
    del stack[len(stack) - count:]
    stack.append(Combine(kind, parts))


def _negate(stack: list[Node], name: str) -> None:
    if not stack or isinstance(stack[-1], Aggregate):
        raise LivestatusError(400, f"{name} has no filter before it to negate")
    stack.append(Combine("not", (stack.pop(),)))


def _on_off(name: str, value: str) -> bool:
    if value not in ("on", "off"):
        raise LivestatusError(400, f"{name} must be on or off, not {value!r}")
    return value == "on"
