"""Nagios macros in plugin arguments, substituted per argument before exec.

Arguments are a list and stay a list: a macro's value never splits or joins arguments and
never meets a shell, so a host name or item with `;` or `$(...)` in it is just text.
"""

from __future__ import annotations

import re

from watchkeeper.errors import ConfigError

_MACRO = re.compile(r"\$([A-Z0-9_]*)\$")
KNOWN = ("HOSTNAME", "HOSTADDRESS", "HOSTALIAS", "SERVICEDESC", "ARGn", "USERn", "$$ (a literal $)")


def expand(argv: list[str], values: dict[str, str]) -> list[str]:
    """`values` holds HOSTNAME, HOSTADDRESS, ..., ARG1.., USER1..; `$$` is a literal `$`."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name:
            return "$"
        if name in values:
            return values[name]
        if re.fullmatch(r"ARG\d+", name):
            return ""  # Nagios: an argument not given is empty
        raise ConfigError(f"macro ${name}$ is not known here; known: {', '.join(KNOWN)}")
    return [_MACRO.sub(one, argument) for argument in argv]


_ANY_VALUES = {name: "" for name in ("HOSTNAME", "HOSTADDRESS", "HOSTALIAS", "SERVICEDESC")} | {
    f"USER{n}": "" for n in range(1, 257)}


def check_macros(argv: list[str]) -> None:
    """Refuse a command with an unknown macro when it is defined, not when it first runs."""
    if any("$" in argument for argument in argv):
        expand(argv, _ANY_VALUES)
