"""Parse `<<<bacula>>>`: `bconsole` sessions (Bacula or Bareos) as the agent ran them.

    [agent] now=1796086124 utc_offset=3600
    .jobs type=B                      each command as bconsole echoes it, then its answer
    BackupClient1
    .clients / .storage               the daemons the director knows
    status director                   running jobs: "is waiting for an appendable Volume"
    status schedule days=15           each job's runs of the next 15 days ("Tue 01-Dec 14:40")
    llist jobs days=14                `JobId: 1` / `Name: ...` / `JobStatus: T` blocks
    llist pools                       `Name: Main` / `MaxVols: 10` / `MaxVolBytes: ...` blocks
    list volumes                      `Pool: NAME` and a table per pool
    list joblog jobid=4               the newest failed run's log: its fatal error
    [daemon] client lab-fd ok 9.6.7   each daemon's own status, asked one by one (or `failed`,
                                      `timeout`, `skipped` and why)

With `.api json` first (Bareos 15.2 and later, the agent's `"api": "json"`), a command's
answer is one JSON-RPC response object instead of text: `{"result": {"jobs": [{"jobid": ...}]}}`
for `.jobs`, `.clients`, `.storages`, `llist jobs` (keys as in the catalog, lower case), `llist
pools`, `list volumes` (`{"volumes": {"full": [...]}}`: pools by their name in lower case) and
`list joblog`. Those are read as their text would be; commands that answer in text stay text.

Times in the catalog are the director host's local time: `utc_offset` turns them into epoch
seconds, and ages are counted from the agent's `now` (not the server's clock). Outputs
without the agent's line (a saved `bconsole` session, Bareos' `list jobs` table, `messages`)
are read too, in UTC. A line that fits nowhere is named in `unread`.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.checkapi import AgentSection, SectionUnparsed, StringTable, load_json, to_int

RUNNING_CODES = frozenset("CRBFSmMsjcdtpa")
"""JobStatus codes of a job not finished: created, running, blocked, waiting (for the FD, SD,
media, a mount, storage, a job or client slot, max jobs, its start time, priority...)."""
OK_CODES = frozenset("T")
WARNING_CODES = frozenset("W")
FAILED_CODES = frozenset("Eef")
CANCELED_CODES = frozenset("A")
STATUS_NAMES = {"T": "OK", "W": "OK with warnings", "E": "terminated in error", "e": "non-fatal error",
                "f": "fatal error", "A": "canceled", "R": "running", "C": "created, not yet running",
                "B": "blocked", "D": "verify differences", "I": "incomplete", "F": "waiting on the client",
                "S": "waiting on the storage daemon", "m": "waiting for new media", "M": "waiting for a mount",
                "s": "waiting for storage", "j": "waiting for a job slot", "c": "waiting for the client",
                "d": "waiting for max jobs", "t": "waiting for its start time", "p": "waiting for priority",
                "a": "SD despooling attributes"}
LEVELS = {"F": "Full", "I": "Incremental", "D": "Differential", "B": "Base", "f": "VirtualFull"}
_REASON = re.compile(r"JobId (\d+): (Fatal error|Error|Warning): (.*)")
_SOURCE_LOCATION = re.compile(r"^[\w/]+\.c+:\d+ ")
_SCHEDULED_ROW = re.compile(r"^\s*\S+\s+\S+\s+\d+\s+\w{3} (\d\d)-(\w{3}) (\d\d):(\d\d)\s+(\S.*?)\s+(\S+)\s*$")
_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_CATALOG_ERROR = re.compile(r"ERR=|Could not open (database|Catalog)|Query failed|sql_query|database is locked",
                            re.IGNORECASE)
_RUNNING_ROW = re.compile(r"^\s*(\d+)\s+(\S+)\s+(\S+)\s+([\d,]+)\s+([\d.,]+(?: [KMGTPE])?)\s+(\S.*)$")
MAX_REASON = 300


@dataclass(slots=True)
class Job:
    jobid: int
    name: str
    type: str = ""
    level: str = ""
    client: str = ""
    status: str = ""
    start: float | None = None
    end: float | None = None
    files: int | None = None
    bytes: int | None = None
    errors: int | None = None
    pool: str = ""

    @property
    def duration_s(self) -> float | None:
        return self.end - self.start if self.end is not None and self.start is not None else None


@dataclass(frozen=True, slots=True)
class Volume:
    name: str
    pool: str
    status: str
    bytes: int | None = None
    last_written: float | None = None


@dataclass(frozen=True, slots=True)
class PoolLimits:
    max_volumes: int = 0
    """0: no limit."""
    max_volume_bytes: int = 0
    """0: no limit."""
    recycle: bool = False

    @property
    def capacity(self) -> int | None:
        """Bytes the pool can hold at most, None when either limit is open."""
        return self.max_volumes * self.max_volume_bytes if self.max_volumes and self.max_volume_bytes else None


@dataclass(frozen=True, slots=True)
class Daemon:
    kind: str
    """`client` or `storage`."""
    name: str
    state: str
    """`ok`, `failed`, `timeout` or `skipped`."""
    text: str
    """The version when `ok`, else what was said."""


@dataclass(slots=True)
class Bacula:
    now: float | None = None
    """The agent's clock when it asked (None for an output without the agent's line)."""
    utc_offset: float = 0.0
    """The director host's offset from UTC, for its local times."""
    version: str = ""
    defined: list[str] = field(default_factory=list)
    """Backup jobs the director has (`.jobs type=B`), run or not."""
    jobs: list[Job] = field(default_factory=list)
    """Oldest first (by JobId)."""
    running: dict[int, str] = field(default_factory=dict)
    """JobId -> what `status director` says it does ("is waiting for an appendable Volume")."""
    pools: dict[str, list[Volume]] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)
    """JobId -> its first fatal error (else error) message."""
    errors: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    asked: set[str] = field(default_factory=set)
    """Which parts the output holds: `jobs`, `status`, `volumes`, `schedule`, `pools`, `daemons`."""
    schedule: dict[str, list[float]] = field(default_factory=dict)
    """Job name -> its scheduled runs (epoch seconds) from `status schedule`, oldest first."""
    pool_limits: dict[str, PoolLimits] = field(default_factory=dict)
    clients: list[str] = field(default_factory=list)
    storages: list[str] = field(default_factory=list)
    daemons: dict[tuple[str, str], Daemon] = field(default_factory=dict)
    """(kind, name) -> what its status said."""
    catalog_errors: list[str] = field(default_factory=list)
    """What the catalog answered instead of jobs (a database that does not open, a failed query)."""


def parse_bacula(table: StringTable) -> Bacula:
    section = Bacula()
    offset = 0.0
    part = ""
    lines: dict[str, list[str]] = {}
    for row in table:
        line = row[0] if row else ""
        stripped = line.strip()
        if stripped.startswith("[agent] "):
            fields = dict(item.partition("=")[::2] for item in stripped.split()[1:])
            section.now = float(to_int(fields.get("now", "")) or 0) or None
            offset = float(to_int(fields.get("utc_offset", "")) or 0)
            section.utc_offset = offset
            continue
        if stripped.startswith("watchkeeper-error: "):
            section.errors.append(stripped[len("watchkeeper-error: "):][:500])
            continue
        if stripped.startswith("[daemon] "):
            words = stripped.split(" ", 4)
            if len(words) >= 4 and words[1] in ("client", "storage"):
                section.asked.add("daemons")
                section.daemons[(words[1], words[2])] = Daemon(words[1], words[2], words[3],
                                                               (words[4] if len(words) > 4 else "")[:300])
            continue
        command = _command(stripped)
        if command is not None:
            part = command
            continue
        lines.setdefault(part, []).append(line)
    if not lines.keys() - {""} and not section.errors:
        raise SectionUnparsed("no bconsole command's answer in it" + (f": {table[0][0][:80]!r}" if table else ""))
    answers = {part: _json_results(section, part, text) for part, text in lines.items()}
    if any(answers.values()):
        _read_json(section, answers, offset)
    plain = {part: [] if answers.get(part) else part_lines for part, part_lines in lines.items()}
    section.defined = section.defined or _names(plain.get(".jobs", []))
    section.clients = section.clients or _names(plain.get(".clients", []))
    section.storages = section.storages or _names(plain.get(".storage", []))
    section.jobs += _llist(plain.get("llist jobs", []), offset) + _list_jobs(plain.get("list jobs", []), offset)
    section.jobs.sort(key=lambda job: job.jobid)
    if "llist jobs" in lines or "list jobs" in lines:
        section.asked.add("jobs")
    if "status director" in lines:
        section.asked.add("status")
        _status(section, lines["status director"])
    if "list volumes" in lines:
        section.asked.add("volumes")
        _volumes(section, plain["list volumes"], offset)
    if "status schedule" in lines:
        section.asked.add("schedule")
        section.schedule = _schedule(lines["status schedule"], section.now, offset)
    if "llist pools" in lines:
        section.asked.add("pools")
        section.pool_limits = section.pool_limits or _pool_limits(plain["llist pools"])
    section.catalog_errors = [line.strip()[:300] for line in lines.get("llist jobs", [])
                              if _CATALOG_ERROR.search(line)][:3]
    logs = [line for answer in answers.get("list joblog", []) for line in _strings(answer)]
    for line in lines.get("list joblog", []) + lines.get("messages", []) + logs:
        found = _REASON.search(line)
        if found is not None:
            jobid, kind, text = int(found.group(1)), found.group(2), found.group(3)
            text = _SOURCE_LOCATION.sub("", text.rstrip(" \\|")).strip()
            if kind == "Error" and re.match(r"(Bacula|Bareos) \S+ \S+ \(", text):
                continue  # the job report's header, not a reason
            if text and (jobid not in section.reasons or kind == "Fatal error" and not
                         section.reasons[jobid].startswith("Fatal error")):
                section.reasons[jobid] = f"{kind}: {text}"[:MAX_REASON]
    return section


MAX_JSON = 64 << 20


def _json_results(section: Bacula, part: str, lines: list[str]) -> list[dict[str, Any]]:
    """The `result` of each JSON-RPC response among a command's lines (in place of its text);
    an error response or an object that does not close is named in `unread`."""
    found: list[dict[str, Any]] = []
    pending: list[str] = []
    size = 0
    for line in lines:
        if not pending and not line.lstrip().startswith("{"):
            continue
        pending.append(line)
        size += len(line)
        if not line.rstrip().endswith("}") and size < MAX_JSON:
            continue
        answer = load_json("\n".join(pending))
        if isinstance(answer, dict) or size >= MAX_JSON:
            pending, size = [], 0
        if not isinstance(answer, dict):
            continue
        if isinstance(answer.get("result"), dict):
            found.append(answer["result"])
        elif "error" in answer:
            message = answer["error"].get("message") if isinstance(answer["error"], dict) else answer["error"]
            section.unread.append(f"{part}: the director answered with an error: {str(message)[:200]}")
    if pending:
        section.unread.append(f"{part}: a JSON answer that does not end ({size} bytes)")
    return found


def _rows(results: list[dict[str, Any]], key: str) -> list[dict[str, str]]:
    """`result[key]` rows of every answer, as text fields with lower-case keys."""
    rows = []
    for result in results:
        value = result.get(key)
        for row in value if isinstance(value, list) else []:
            if isinstance(row, dict):
                rows.append({str(name).lower(): "" if item is None else str(item) for name, item in row.items()})
    return rows


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return value.splitlines()
    if isinstance(value, dict):
        return [line for item in value.values() for line in _strings(item)]
    if isinstance(value, list):
        return [line for item in value for line in _strings(item)]
    return []


def _read_json(section: Bacula, answers: dict[str, list[dict[str, Any]]], offset: float) -> None:
    section.defined = [row["name"] for row in _rows(answers.get(".jobs", []), "jobs") if row.get("name")]
    section.clients = [row["name"] for row in _rows(answers.get(".clients", []), "clients") if row.get("name")]
    section.storages = [row["name"] for row in _rows(answers.get(".storage", []), "storages") if row.get("name")]
    for part in ("llist jobs", "list jobs"):
        section.jobs += [job for row in _rows(answers.get(part, []), "jobs") if (job := _job(row, offset))]
    for row in _rows(answers.get("llist pools", []), "pools"):
        if row.get("name"):
            section.pool_limits[row["name"]] = PoolLimits(max(to_int(row.get("maxvols", "")) or 0, 0),
                                                          max(to_int(row.get("maxvolbytes", "")) or 0, 0),
                                                          row.get("recycle") == "1")
    names = {name.lower(): name for name in section.pool_limits}
    for result in answers.get("list volumes", []):
        pools = result.get("volumes")
        for key, volumes in pools.items() if isinstance(pools, dict) else []:
            pool = names.get(str(key).lower(), str(key))
            section.pools.setdefault(pool, [])
            for row in _rows([{"rows": volumes}], "rows"):
                if row.get("volumename"):
                    section.pools[pool].append(Volume(row["volumename"], pool, row.get("volstatus", ""),
                                                      to_int(row.get("volbytes", "")),
                                                      _epoch(row.get("lastwritten", ""), offset)))


def _names(lines: list[str]) -> list[str]:
    """A dot command's answer: one name a line."""
    return [line.strip() for line in lines if line.strip() and not line.startswith("You have messages")]


def _command(line: str) -> str | None:
    """The part a line starts when it is a command bconsole echoed."""
    if line in ("status director", "list volumes", "llist pools", "messages", "quit", ".jobs type=B", ".clients",
                ".storage", ".storages", ".api json"):
        return ".jobs" if line.startswith(".jobs") else ".storage" if line == ".storages" else line
    for prefix in ("llist jobs", "list jobs", "list joblog jobid=", "status schedule"):
        if line.startswith(prefix) and (line == prefix or line[len(prefix)] in " 0123456789"):
            return prefix.split(" jobid=")[0]
    return None


def _epoch(text: str, offset: float) -> float | None:
    try:
        return calendar.timegm(time.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")) - offset
    except ValueError:
        return None


def _llist(lines: list[str], offset: float) -> list[Job]:
    jobs: list[Job] = []
    fields: dict[str, str] = {}
    for line in [*lines, ""]:
        key, colon, value = line.strip().partition(":")
        key = key.strip().lower()
        if (not line.strip() or key == "jobid") and fields:
            job = _job(fields, offset)
            if job is not None:
                jobs.append(job)
            fields = {}
        if colon and key:
            fields[key] = value.strip()
    return jobs


def _job(fields: dict[str, str], offset: float) -> Job | None:
    jobid = to_int(fields.get("jobid", ""))
    name = fields.get("name") or fields.get("jobname") or ""
    if jobid is None or not name:
        return None
    return Job(jobid, name, fields.get("type", ""), fields.get("level", ""),
               fields.get("clientname") or fields.get("client", ""), fields.get("jobstatus", ""),
               _epoch(fields.get("starttime", ""), offset), _epoch(fields.get("endtime", ""), offset),
               to_int(fields.get("jobfiles", "").replace(",", "")), to_int(fields.get("jobbytes", "").replace(",", "")),
               to_int(fields.get("joberrors", "")), fields.get("poolname", ""))


def _tables(lines: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Rows of `+---+` tables as {column: cell}, each with the last `Pool: NAME` line above it."""
    rows: list[tuple[str, dict[str, str]]] = []
    header: list[str] | None = None
    pool = ""
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("Pool: "):
            pool, header = stripped[len("Pool: "):].strip(), None
        elif stripped.startswith("|") and stripped.endswith("|"):
            cells = [cell.strip() for cell in stripped[1:-1].split("|")]
            if header is None:
                header = [cell.lower() for cell in cells]
            elif len(cells) == len(header):
                rows.append((pool, dict(zip(header, cells, strict=True))))
        elif not stripped.startswith("+"):
            header = None  # a table ends where its lines do
    return rows


def _list_jobs(lines: list[str], offset: float) -> list[Job]:
    return [job for _, row in _tables(lines) if (job := _job({**row, "jobstatus": row.get("jobstatus", "")}, offset))]


def _status(section: Bacula, lines: list[str]) -> None:
    names = sorted({job.name for job in section.jobs} | set(section.defined), key=len, reverse=True)
    running = False
    for line in lines:
        stripped = line.strip()
        found = _RUNNING_ROW.match(line) if running else None
        if found is not None:
            rest = found.group(6)
            name = next((known for known in names if rest.startswith(known + " ") or rest == known), None)
            if name is None:
                name, _, status = rest.partition(" ")
            else:
                status = rest[len(name):]
            section.running[int(found.group(1))] = status.strip()
        elif " Version: " in stripped and not section.version:
            section.version = stripped.split(" Version: ", 1)[1].split(" (")[0]
        elif stripped == "Running Jobs:":
            running = True
        elif stripped.endswith(":") and not stripped.startswith("Console") or stripped.startswith("No Jobs running"):
            running = False  # "Terminated Jobs:", "Scheduled Jobs:", "Client Initiated Connections ...:"


def _schedule(lines: list[str], now: float | None, offset: float) -> dict[str, list[float]]:
    """`status schedule` rows: "Full  Backup  10  Tue 01-Dec 14:40  BackupGood  Daily". The row has
    no year: it is the one that puts the run nearest after the agent's `now` (a run in January
    seen in December is next year's)."""
    reference = now if now is not None else time.time()
    year = time.gmtime(reference + offset).tm_year
    runs: dict[str, list[float]] = {}
    for line in lines:
        found = _SCHEDULED_ROW.match(line)
        month = _MONTHS.get(found.group(2)) if found is not None else None
        if found is None or month is None:
            continue
        day, hour, minute = int(found.group(1)), int(found.group(3)), int(found.group(4))
        when = None
        for candidate in (year, year + 1):
            try:
                at = calendar.timegm((candidate, month, day, hour, minute, 0)) - offset
            except (ValueError, OverflowError):
                continue
            if at >= reference - 86400:
                when = at
                break
        if when is not None:
            runs.setdefault(found.group(5), []).append(float(when))
    return {name: sorted(times) for name, times in runs.items()}


def _pool_limits(lines: list[str]) -> dict[str, PoolLimits]:
    limits: dict[str, PoolLimits] = {}
    fields: dict[str, str] = {}
    for line in [*lines, ""]:
        key, colon, value = line.strip().partition(":")
        key = key.strip().lower()
        if (not line.strip() or key == "poolid") and fields.get("name"):
            limits[fields["name"]] = PoolLimits(max(to_int(fields.get("maxvols", "")) or 0, 0),
                                                max(to_int(fields.get("maxvolbytes", "")) or 0, 0),
                                                fields.get("recycle") == "1")
            fields = {}
        if colon and key:
            fields[key] = value.strip()
    return limits


def _volumes(section: Bacula, lines: list[str], offset: float) -> None:
    for line in lines:
        if line.strip().startswith("Pool: "):
            section.pools.setdefault(line.strip()[len("Pool: "):].strip(), [])
    for pool, row in _tables(lines):
        name = row.get("volumename")
        if not name:
            continue
        section.pools.setdefault(pool, []).append(Volume(name, pool, row.get("volstatus", ""),
                                                         to_int(row.get("volbytes", "").replace(",", "")),
                                                         _epoch(row.get("lastwritten", ""), offset)))


bacula_section = AgentSection("bacula", parse_bacula)
