"""The patch plan as an Ansible inventory: `patchnow` (the hosts to patch now), `patchwindow`
and `patchwait`, so `ansible-playbook -i <(watchkeeper patch plan --ansible-inventory) -l patchnow`
patches exactly those. Written by hand rather than through a YAML library: the shape is fixed
and small, and host names are quoted as JSON strings, which YAML reads as they are."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from watchkeeper.patching.plan import PATCH_NOW, WAIT, WINDOW, Decision

GROUPS = {PATCH_NOW: "patchnow", WINDOW: "patchwindow", WAIT: "patchwait"}
_INI_SAFE = re.compile(r"^[A-Za-z0-9_.:@-]+$")


def connection(address: str) -> dict[str, str]:
    """ansible_host/port/user from an ssh:// address; nothing for local or other transports."""
    if not address.startswith("ssh://"):
        return {}
    parts = urlsplit(address)
    found = {"ansible_host": parts.hostname or ""}
    if parts.port:
        found["ansible_port"] = str(parts.port)
    if parts.username:
        found["ansible_user"] = parts.username
    return {key: value for key, value in found.items() if value}


def as_ini(decisions: Sequence[Decision]) -> str:
    lines = ["# watchkeeper patch plan"]
    for decision, group in GROUPS.items():
        lines.append(f"[{group}]")
        for entry in decisions:
            if entry.decision != decision:
                continue
            variables = connection(entry.address)
            if not _INI_SAFE.match(entry.host) or not all(_INI_SAFE.match(v) for v in variables.values()):
                lines.append(f"# {json.dumps(entry.host)} left out: not writable in INI; use --format yaml")
                continue
            lines.append(" ".join([entry.host, *(f"{key}={value}" for key, value in variables.items())]))
        lines.append("")
    return "\n".join(lines)


def as_yaml(decisions: Sequence[Decision]) -> str:
    lines = ["# watchkeeper patch plan", "all:", "  children:"]
    for decision, group in GROUPS.items():
        members = [entry for entry in decisions if entry.decision == decision]
        lines.append(f"    {group}:")
        if not members:
            lines.append("      hosts: {}")
            continue
        lines.append("      hosts:")
        for entry in members:
            variables = {**connection(entry.address), "watchkeeper_patch_reasons": list(entry.reasons)}
            lines.append(f"        {json.dumps(entry.host)}: {json.dumps(variables)}")
    return "\n".join(lines) + "\n"
