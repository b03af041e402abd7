"""`Reboot needed`: whether a host still runs what an upgrade replaced, from `<<<reboot_needed>>>`.

    flag yes
    flag_packages libc6 linux-image-6.1.0-22-amd64
    kernel_running 6.1.0-20-amd64
    kernel_installed 6.1.0-20-amd64 6.1.0-22-amd64
    needrestart_at 1796059566
    NEEDRESTART-VER: 3.6
    NEEDRESTART-KCUR: 6.1.0-20-amd64
    NEEDRESTART-KEXP: 6.1.0-22-amd64
    NEEDRESTART-KSTA: 3
    NEEDRESTART-SVC: apache2.service
    NEEDRESTART-SESS: amousset @ session #54207
    NEEDRESTART-UCSTA: 2
    NEEDRESTART-UCEXP: 0x0002

The package system's flag (/run/reboot-required and its .pkgs list), the running kernel against
the newest one in /boot, and `needrestart -r l -b` (kernel status 0 unknown, 1 current, 2 an
ABI-compatible upgrade, 3 a new version; CPU microcode 0 unknown, 1 current, 2 a newer one
waits for a reboot; services and sessions that run replaced libraries).
A kernel or flag waiting is WARN, services waiting are WARN (a restart closes what the upgrade
fixed), sessions are told. After patching and rebooting the service turns OK by itself, which
is how a patch run is confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Result,
    SectionUnparsed,
    Service,
    State,
    StringTable,
    ValueStore,
    render,
)


@dataclass(slots=True)
class RebootState:
    flag: bool = False
    flag_packages: list[str] = field(default_factory=list)
    kernel_running: str = ""
    kernels_installed: list[str] = field(default_factory=list)
    kernel_status: int | None = None
    """needrestart's NEEDRESTART-KSTA: 0 unknown, 1 current, 2 ABI-compatible upgrade, 3 new version."""
    kernel_expected: str = ""
    microcode_status: int | None = None
    """needrestart's NEEDRESTART-UCSTA: 0 unknown, 1 current, 2 a newer microcode waits for a reboot."""
    microcode_expected: str = ""
    services: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    needrestart_error: str = ""
    unread: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RebootParams:
    kernel_state: int = int(State.WARN)
    """State while a newer kernel (or the package system's reboot flag) waits for a reboot (0-3)."""
    services_state: int = int(State.WARN)
    """State while services run libraries an upgrade replaced (0-3)."""


def parse_reboot_needed(table: StringTable) -> RebootState:
    found = RebootState()
    for row in table:
        line = " ".join(row).strip()
        key, _, value = line.partition(" ")
        value = value.strip()
        if not line:
            continue
        if key == "flag":
            found.flag = value == "yes"
        elif key == "flag_packages":
            found.flag_packages = value.split()
        elif key == "kernel_running":
            found.kernel_running = value
        elif key == "kernel_installed":
            found.kernels_installed = value.split()
        elif key == "needrestart_error":
            found.needrestart_error = value[:300]
        elif key in ("needrestart_at", "NEEDRESTART-VER:", "NEEDRESTART-UCCUR:"):
            continue
        elif key == "NEEDRESTART-UCSTA:":
            found.microcode_status = int(value) if value.isdecimal() and len(value) < 3 else None
        elif key == "NEEDRESTART-UCEXP:":
            found.microcode_expected = value
        elif key == "NEEDRESTART-KSTA:":
            found.kernel_status = int(value) if value.isdecimal() and len(value) < 3 else None
        elif key == "NEEDRESTART-KEXP:":
            found.kernel_expected = value
        elif key == "NEEDRESTART-KCUR:":
            found.kernel_running = found.kernel_running or value
        elif key == "NEEDRESTART-SVC:":
            found.services.append(value)
        elif key == "NEEDRESTART-SESS:":
            found.sessions.append(value)
        else:
            found.unread.append(f"not a reboot-needed line: {line[:200]}")
    if not found.kernel_running and not found.needrestart_error and found.kernel_status is None:
        raise SectionUnparsed("no running kernel and no needrestart verdict in the section")
    return found


def discover_reboot_needed(section: RebootState) -> DiscoveryResult:
    yield Service()


def _newer_kernel(section: RebootState) -> str:
    """The kernel a reboot would start, when it is not the running one."""
    if section.kernel_status in (2, 3):
        return section.kernel_expected or "a newer kernel"
    if section.kernel_status == 1 or not section.kernels_installed:
        return ""
    newest = section.kernels_installed[-1]  # the agent sorts them by version
    return newest if newest != section.kernel_running and section.kernel_running in section.kernels_installed else ""


def check_reboot_needed(item: str, params: RebootParams, section: RebootState, store: ValueStore,
                        now: float) -> CheckResult:
    newer = _newer_kernel(section)
    if newer:
        what = "an ABI-compatible update of the running kernel" if section.kernel_status == 2 else newer
        yield Result(State(params.kernel_state), f"running kernel {section.kernel_running}, a reboot starts {what}")
    if section.microcode_status == 2:
        expected = f" ({section.microcode_expected})" if section.microcode_expected else ""
        yield Result(State(params.kernel_state), f"newer CPU microcode{expected} waits for a reboot")
    if section.flag:
        packages = section.flag_packages
        because = f" (for {render.listing(packages)})" if packages else ""
        yield Result(State(params.kernel_state), f"the package system asks for a reboot{because}",
                     details="Packages asking for it: " + ", ".join(packages) if packages else "")
    if section.services:
        names = [name.removesuffix(".service") for name in section.services]
        yield Result(State(params.services_state),
                     f"{len(names)} services run replaced libraries and need a restart: {render.listing(names)}",
                     details="Services to restart: " + ", ".join(section.services))
    if section.sessions:
        yield Result(State.OK, f"{len(section.sessions)} user sessions run replaced libraries",
                     details="Sessions: " + "; ".join(section.sessions))
    if section.needrestart_error:
        yield Result(State.UNKNOWN, f"needrestart failed, services are not judged: {section.needrestart_error}")
    if not newer and not section.flag and not section.services and section.microcode_status != 2:
        known = section.kernel_status == 1 or section.kernel_running in section.kernels_installed[-1:]
        running = (f"; running the newest installed kernel {section.kernel_running}" if known
                   else f"; running kernel {section.kernel_running} (no installed kernel to compare it with)"
                   if section.kernel_running else "")
        yield Result(State.OK, f"no reboot needed{running}")



reboot_needed_section = AgentSection("reboot_needed", parse_reboot_needed)

reboot_needed = CheckPlugin(
    name="reboot_needed",
    section="reboot_needed",
    title="Reboot needed",
    discover=discover_reboot_needed,
    check=check_reboot_needed,
    default_params=RebootParams(),
)
