"""The agent's own header, `<<<check_mk>>>`: OS, kernel, agent version, failed collectors.

    Version: 0.1.0
    AgentOS: linux
    OSName: Debian GNU/Linux 12 (bookworm)
    FailedCollectors: linux_df(PermissionError)

A Checkmk agent adds `FailedPythonPlugins:` and sends its host labels (`<<<labels>>>`, one JSON
object per line), its plugins with their versions (`<<<checkmk_agent_plugins_lnx>>>`) and, with
its controller installed, the controller's status (`<<<cmk_agent_ctl_status>>>`): all shown on
the same service.
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
    load_json,
)


@dataclass(frozen=True, slots=True)
class AgentInfo:
    version: str
    os: str
    kernel: str
    architecture: str
    failed_collectors: str
    labels: tuple[tuple[str, str], ...] = ()
    plugins: tuple[str, ...] = ()
    controller: str = ""


def parse_check_mk(table: StringTable) -> AgentInfo | None:
    fields: dict[str, str] = {}
    labels: dict[str, str] = {}
    plugins: list[str] = []
    controller: list[str] = []
    part = "check_mk"
    for row in table:
        if len(row) == 1 and row[0].startswith("<<<") and row[0].endswith(">>>"):
            part = row[0][3:-3]
        elif part == "check_mk" and row and row[0].endswith(":"):
            key = row[0][:-1]
            value = " ".join(row[1:])
            if key == "FailedPythonPlugins" and value:  # one header per failed plugin
                fields["FailedCollectors"] = ", ".join(filter(None, (fields.get("FailedCollectors", ""), value)))
            else:
                fields.setdefault(key, value)
        elif part == "labels":
            document = load_json(" ".join(row))
            if isinstance(document, dict):
                labels.update((str(k), str(v)) for k, v in document.items())
        elif part == "checkmk_agent_plugins_lnx" and row and not row[0].startswith(("pluginsdir ", "localdir ")):
            plugins.append(" ".join(row))
        elif part == "cmk_agent_ctl_status":
            controller.append(" ".join(row))
    if not fields:
        return None
    return AgentInfo(
        version=fields.get("Version", ""),
        os=fields.get("OSName") or fields.get("AgentOS", ""),
        kernel=fields.get("KernelRelease", ""),
        architecture=fields.get("Architecture", ""),
        failed_collectors=fields.get("FailedCollectors", ""),
        labels=tuple(sorted(labels.items())),
        plugins=tuple(plugins),
        controller=" ".join(controller)[:2000],
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
    details = []
    if section.labels:
        details.append("Labels from the agent: " + ", ".join(f"{k}={v}" for k, v in section.labels))
    if section.plugins:
        details.append("Agent plugins and local checks: " + ", ".join(section.plugins))
    if section.controller:
        details.append("Agent controller: " + section.controller)
    yield Result(State.OK, ", ".join(parts), details="\n".join(details))
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


check_mk_section = AgentSection("check_mk", parse_check_mk,
                                companions=("labels", "checkmk_agent_plugins_lnx", "cmk_agent_ctl_status"))
