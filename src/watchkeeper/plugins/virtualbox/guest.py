"""VirtualBox guest additions, from the Checkmk agent's `<<<vbox_guest>>>`:

    Name: /VirtualBox/GuestAdd/Version, value: 6.1.22
    Name: /VirtualBox/HostInfo/VBoxVer, value: 6.1.26

(`VBoxControl guestproperty enumerate` cut after the value), or `ERROR` when the tool fails.
The agent always sends the header; an empty section is a host that is no VirtualBox guest,
and gives no service.
"""

from __future__ import annotations

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


def parse_vbox_guest(table: StringTable) -> dict[str, str] | None:
    if not table:
        return None
    properties: dict[str, str] = {}
    for row in table:
        line = " ".join(row)
        if line.strip() == "ERROR":
            properties["ERROR"] = "VBoxControl failed"
            continue
        name, _, value = line.partition(", value:")
        if name.startswith("Name:"):
            properties[name[5:].strip()] = value.strip()
    return properties


def discover_vbox_guest(section: dict[str, str]) -> DiscoveryResult:
    yield Service()


def check_vbox_guest(item: str, params: NoParams, section: dict[str, str], store: ValueStore,
                     now: float) -> CheckResult:
    if "ERROR" in section:
        yield Result(State.CRIT, "the guest additions do not answer (VBoxControl failed)")
        return
    guest = section.get("/VirtualBox/GuestAdd/Version", "")
    host = section.get("/VirtualBox/HostInfo/VBoxVer", "")
    if not guest:
        yield Result(State.WARN, "no guest additions version reported")
        return
    text = f"guest additions {guest}" + (f", host VirtualBox {host}" if host else "")
    if host and guest.split("_")[0] != host.split("_")[0]:
        yield Result(State.WARN, f"{text}: versions differ, update the guest additions")
    else:
        yield Result(State.OK, text)


vbox_guest_section = AgentSection("vbox_guest", parse_vbox_guest)

vbox_guest = CheckPlugin(
    name="vbox_guest",
    section="vbox_guest",
    title="VirtualBox guest additions",
    discover=discover_vbox_guest,
    check=check_vbox_guest,
    default_params=NoParams(),
)
