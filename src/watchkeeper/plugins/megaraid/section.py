"""Parse the `megaraid` section: whichever tool the agent found, into one `MegaRaid`."""

from __future__ import annotations

from watchkeeper.checkapi import AgentSection, StringTable
from watchkeeper.plugins.megaraid import megacli, mfiutil, storcli
from watchkeeper.plugins.megaraid.model import MegaRaid, blocks


def parse_megaraid(table: StringTable) -> MegaRaid | None:
    parts = blocks(table)
    if not parts:
        return None
    raid = MegaRaid()
    for kind, lines in parts:
        raid.errors.extend(line.split(":", 1)[1].strip() for line in lines if line.startswith("watchkeeper-error:"))
        body = [line for line in lines if not line.startswith("watchkeeper-error:")]
        if kind == "storcli json":
            for line in body:
                storcli.read_json(raid, line)
        elif kind == "storcli text":
            storcli.read_text(raid, body)
        elif kind == "mfiutil":
            mfiutil.read(raid, body)
        else:
            megacli.read(raid, body)
    return raid


megaraid_section = AgentSection("megaraid", parse_megaraid)
