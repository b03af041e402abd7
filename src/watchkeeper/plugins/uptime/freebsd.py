"""Time since boot on FreeBSD, from `<<<freebsd_uptime>>>`: kern.boottime and the host's own clock.

    kern.boottime: { sec = 1789900651, usec = 837885 } Sun Sep 20 10:37:31 2026
    now: 1789900897

The agent prints the host's `date +%s`: measured against this server's clock instead, the
skew between the two machines would show as uptime.
"""

from __future__ import annotations

import re

from watchkeeper.checkapi import AgentSection, SectionUnparsed, StringTable, sysctl_values, to_int

_BOOTTIME = re.compile(r"\{\s*sec\s*=\s*(\d{1,15})\s*,")


def parse_freebsd_uptime(table: StringTable) -> float | None:
    values = sysctl_values(table)
    boottime, now = values.get("kern.boottime"), to_int(values.get("now"))
    if boottime is None or now is None:
        return None
    found = _BOOTTIME.search(boottime)
    if found is None:
        raise SectionUnparsed(f"kern.boottime has no `{{ sec = ... }}`: {boottime[:80]!r}")
    seconds = now - int(found.group(1))
    if seconds < 0:
        raise SectionUnparsed(f"kern.boottime lies {-seconds} s after the host's clock: the clock was set back")
    return float(seconds)


freebsd_uptime_section = AgentSection("freebsd_uptime", parse_freebsd_uptime, parsed_section="uptime")
