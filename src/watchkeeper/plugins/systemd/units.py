"""Failed systemd units, from the Checkmk agent's `<<<systemd_units>>>`:

    [list-unit-files]
    apt-daily.service static -
    [status]
    ...
    [all]
    cron.service loaded active running Regular background program processing daemon
    backup.service loaded failed failed Nightly backup

Agents since 2.1 print `[all]` with `--plain` (no `●`, no header); older ones print
`systemctl --all` as it looks on a terminal, with its `UNIT LOAD ACTIVE SUB DESCRIPTION`
header and a `●` before units that failed or are not found, up to the first blank line.
Without `[all]` lines (systemd is not PID 1, as in a container) there is nothing to judge
and no service.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
)

SHOWN = 5


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    load: str
    active: str
    sub: str
    description: str


def parse_systemd_units(table: StringTable) -> dict[str, Unit] | None:
    units: dict[str, Unit] = {}
    part = ""
    for row in table:
        if len(row) == 1 and row[0].startswith("[") and row[0].endswith("]"):
            part = row[0][1:-1]
            continue
        if part != "all" or not row:
            continue
        words = row[1:] if row[0] in ("●", "*", "×") else row
        if len(words) < 4 or words[0] == "UNIT" or "." not in words[0]:
            continue
        unit = Unit(words[0], words[1], words[2], words[3], " ".join(words[4:]))
        units[unit.name] = unit
    return units or None


def discover_systemd_units(section: dict[str, Unit]) -> DiscoveryResult:
    yield Service()


@dataclass(frozen=True, slots=True)
class SystemdParams:
    ignore: tuple[str, ...] = ()
    """Unit names whose failure is known and accepted (exact names)."""


def check_systemd_units(item: str, params: SystemdParams, section: dict[str, Unit], store: ValueStore,
                        now: float) -> CheckResult:
    failed = [u for u in section.values() if u.active == "failed" and u.name not in params.ignore]
    text = f"{len(section)} units"
    if failed:
        names = [u.name for u in failed]
        shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
        yield Result(State.CRIT, f"{text}, {len(failed)} failed: {shown}",
                     details="\n".join(f"{u.name}: {u.description} ({u.load}, {u.sub})" for u in failed)
                     + "\nSee why with `systemctl status UNIT` and `journalctl -u UNIT`.")
    else:
        yield Result(State.OK, f"{text}, none failed")
    yield Metric("systemd_failed_units", len(failed))


systemd_units_section = AgentSection("systemd_units", parse_systemd_units)

systemd_units = CheckPlugin(
    name="systemd_units",
    section="systemd_units",
    title="Systemd units",
    discover=discover_systemd_units,
    check=check_systemd_units,
    default_params=SystemdParams(),
)
