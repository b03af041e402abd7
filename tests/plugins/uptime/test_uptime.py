"""Uptime from /proc/uptime (and the Checkmk agent's container form: seconds only)."""

from __future__ import annotations

from tests.conftest import CHECKMK_1_4, CHECKMK_2_3_CONTAINER, agent_section
from watchkeeper.plugins.uptime.uptime import parse_uptime


def test_uptime_with_and_without_idle_seconds() -> None:
    assert parse_uptime(agent_section(CHECKMK_1_4, "uptime")) == 426.10
    assert parse_uptime(agent_section(CHECKMK_2_3_CONTAINER, "uptime")) == 403.0
    assert parse_uptime([["nan"]]) is None
