"""Pending updates on RPM hosts (dnf, or yum before it), from `<<<dnf:sep(0)>>>`.

    [check-update]                                `dnf -q check-update` (exit code 100: updates)
    bash.x86_64                        5.1.8-9.el9                     baseos
    a-long-package-name-that-wraps.noarch
                                       1.2-3.el9                       appstream
    [security]                                    `dnf -q updateinfo list --security`
      RHSA-2024:1234 Important/Sec. openssl-libs-1:3.0.7-27.el9.x86_64

An update is a security update when a security advisory names the package. The value is the
same as APT's, judged by the same check (`DNF updates`): security updates warn once they have
waited longer than a level, the rest are told, and the patch plan reads the same memory.
"""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, CheckPlugin, SectionUnparsed, StringTable
from watchkeeper.plugins.updates.apt import AptParams, PendingUpdates, Update, check_apt, discover_apt

SKIPPED = ("Last metadata expiration check", "Loaded plugins", "Loading mirror speeds", "Security:", " * ")


def _package_name(nevra: str) -> str:
    """`openssl-libs-1:3.0.7-27.el9.x86_64` -> `openssl-libs`: the name before version and release."""
    without_arch = nevra.rsplit(".", 1)[0] if "." in nevra else nevra
    parts = without_arch.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else without_arch


def parse_dnf(table: StringTable) -> PendingUpdates:
    pending = PendingUpdates()
    block, waiting = "", ""
    advisories: dict[str, str] = {}
    updates: list[tuple[str, str, str]] = []
    for row in table:
        line = row[0] if row else ""
        if line in ("[check-update]", "[security]"):
            block, waiting = line, ""
            continue
        if not line.strip() or line.startswith(SKIPPED) or set(line.strip()) <= set("=-|"):
            continue
        fields = line.split()
        if block == "[check-update]":
            if line.startswith(("Obsoleting Packages", "Security: ")):
                block = "obsoletes"
            elif len(fields) == 3 and not line[0].isspace():
                updates.append((fields[0], fields[1], fields[2]))
            elif len(fields) == 1 and not line[0].isspace():
                waiting = fields[0]  # a long name: version and repository follow on the next line
            elif len(fields) == 2 and waiting:
                updates.append((waiting, fields[0], fields[1]))
                waiting = ""
            elif line.startswith(("Error", "E:")) or "error" in line.lower():
                pending.errors.append(line.strip()[:300])
        elif block == "[security]":
            if len(fields) >= 3 and fields[1].endswith("/Sec.") or len(fields) >= 3 and fields[1] == "security":
                advisories.setdefault(_package_name(fields[-1]), fields[0])
            elif "error" in line.lower():
                pending.errors.append(line.strip()[:300])
    for name_arch, version, repo in updates:
        name = name_arch.rsplit(".", 1)[0] if "." in name_arch else name_arch
        advisory = advisories.get(name)
        archives = (repo, f"security advisory {advisory}") if advisory else (repo,)
        pending.updates.append(Update(name, "", version, archives))
    if block == "" and table:
        raise SectionUnparsed("no [check-update] block")
    return pending.settle()


dnf_section = AgentSection("dnf", parse_dnf)

dnf_updates = CheckPlugin(
    name="dnf",
    section="dnf",
    title="DNF updates",
    discover=discover_apt,
    check=check_apt,
    default_params=AptParams(),
)
