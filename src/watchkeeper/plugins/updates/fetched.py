"""Output the FreeBSD agent fetched in the background and prints from its cache.

    made 1796059566 21600
    exit 0
    ...the command's output...

`made 0` with a `watchkeeper-pending:` line: the first run is still under way. Such output is
stale once it is older than two refresh intervals (the fetch stopped running or hangs). A
`watchkeeper-error:` line says why the agent could not run it at all (no state directory).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

from watchkeeper.checkapi import Pending, Result, SectionUnparsed, State, StringTable, render, to_int


@dataclass(slots=True)
class Fetched:
    made: int = 0
    max_age_s: int = 0
    exit_code: int | None = None
    lines: list[str] = field(default_factory=list)
    error: str = ""


def parse_fetched(table: StringTable) -> Fetched:
    rows = [row[0] if row else "" for row in table]
    head = rows[0].split() if rows else []
    if len(head) != 3 or head[0] != "made" or to_int(head[1]) is None or to_int(head[2]) is None:
        raise SectionUnparsed(f"the cached output has no `made TIME MAX_AGE` line: {rows[:1]!r}")
    fetched = Fetched(to_int(head[1]) or 0, to_int(head[2]) or 0)
    body = rows[1:]
    if body and body[0].startswith("exit "):
        fetched.exit_code = to_int(body[0][5:])
        body = body[1:]
    fetched.error = next((line.split(":", 1)[1].strip() for line in body if line.startswith("watchkeeper-error:")), "")
    fetched.lines = [line for line in body if not line.startswith("watchkeeper-error:")]
    return fetched


def fetched_age(fetched: Fetched, what: str, now: float) -> Result | Pending | None:
    """Pending before the first run ends; WARN once the output is older than two refresh intervals."""
    if fetched.error:
        return Result(State.WARN if fetched.made > 0 else State.UNKNOWN, f"the agent cannot run {what}: "
                                                                         f"{fetched.error}")
    if fetched.made <= 0:
        return Pending(f"the agent's first run of {what} is under way; its result follows")
    age = now - fetched.made
    if age > 2 * fetched.max_age_s + 3600:
        return Result(State.WARN, f"{what} last ran {render.timespan(age)} ago (it should run every "
                                  f"{render.timespan(fetched.max_age_s)}): is the agent's state directory writable, "
                                  "or does the run hang?")
    return None


def run_failure(fetched: Fetched, understood: bool, what: str) -> str:
    """Why a finished run gave nothing to judge: its last line, or how it ended; empty when its
    output was understood (or it has not run yet). A run that succeeded and printed only lines
    the parser does not know is unparsed output, not a failure of the tool."""
    if not fetched.made or understood:
        return ""
    last = next((line.strip() for line in reversed(fetched.lines) if line.strip()), "")
    if fetched.exit_code == 0 and last:
        raise SectionUnparsed(f"{what} printed nothing this parser knows: {last[:100]!r}")
    return last or (f"{what} printed nothing" if fetched.exit_code == 0 else f"{what} exited with {fetched.exit_code}")


def fetched_state(fetched: Fetched, error: str, what: str, now: float) -> Generator[Result | Pending, None, bool]:
    """What the cache's age and the run's failure say (`yield from` it); returns whether there is
    a result to judge."""
    stale = fetched_age(fetched, what, now)
    if stale is not None:
        yield stale
        if fetched.made <= 0:
            return False
    if error:
        yield Result(State.UNKNOWN, f"{what} failed: {error}")
        return False
    return True
