"""The agent's own header, `<<<check_mk>>>`: OS, kernel, agent version, failed collectors.

    Version: 0.1.0
    AgentOS: linux
    OSName: Debian GNU/Linux 12 (bookworm)
    FailedCollectors: linux_df(PermissionError)
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    NoParams,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
)


@dataclass(frozen=True, slots=True)
class AgentInfo:
    version: str
    os: str
    kernel: str
    architecture: str
    failed_collectors: str


def parse_check_mk(table: StringTable) -> AgentInfo | None:
    fields: dict[str, str] = {}
    for row in table:
        if row and row[0].endswith(":"):
            fields.setdefault(row[0][:-1], " ".join(row[1:]))
    if not fields:
        return None
    return AgentInfo(
        version=fields.get("Version", ""),
        os=fields.get("OSName") or fields.get("AgentOS", ""),
        kernel=fields.get("KernelRelease", ""),
        architecture=fields.get("Architecture", ""),
        failed_collectors=fields.get("FailedCollectors", ""),
    )


def discover_agent_info(section: AgentInfo) -> DiscoveryResult:
    yield Service()


def check_agent_info(
    item: str, params: NoParams, section: AgentInfo, store: ValueStore, now: float
) -> CheckResult:
    parts = [section.os or "unknown OS"]
    if section.kernel:
        parts.append(f"kernel {section.kernel}")
    if section.architecture:
        parts.append(section.architecture)
    parts.append(f"agent {section.version or 'version unknown'}")
    yield Result(State.OK, ", ".join(parts))
    if section.failed_collectors:
        yield Result(
            State.WARN,
            f"agent collectors failed: {section.failed_collectors}; "
            "run the agent by hand on the host to see why",
        )


agent_info = CheckPlugin(
    name="agent_info",
    section="check_mk",
    title="OS",
    discover=discover_agent_info,
    check=check_agent_info,
    default_params=NoParams(),
)


check_mk_section = AgentSection("check_mk", parse_check_mk)
