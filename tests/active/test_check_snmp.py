"""A Nagios user's path stays: monitoring-plugins' check_snmp, run as an active service against
an SNMP device host (its $HOSTADDRESS$ comes from the snmp:// address), on Net-SNMP's agent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.active.plugins import plugin
from tests.labs.snmp import COMMUNITY, Agent, snmpd  # noqa: F401 (fixture)
from watchkeeper.active.execute import execute
from watchkeeper.checkapi import State
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.hosts import HostConfig


@pytest.mark.slow
async def test_check_snmp_runs_as_an_active_service_of_an_snmp_host(snmpd: Agent, tmp_path: Path) -> None:  # noqa: F811
    secrets = tmp_path / "community"
    secrets.write_text(f"community = {COMMUNITY}\n")
    secrets.chmod(0o600)
    host = HostConfig("switch1", f"snmp://127.0.0.1:{snmpd.port}", options={"snmp_credentials": str(secrets)})
    name = ActiveCheck("switch1", "SNMP sysName", (plugin("check_snmp"), "-H", "$HOSTADDRESS$", "-p", str(snmpd.port),
                                                   "-P", "2c", "-C", COMMUNITY, "-o", "1.3.6.1.2.1.1.5.0",
                                                   "-r", "wk-snmpd-lab"))
    outcome = await execute(name, host, None)
    assert outcome.state == State.OK and "wk-snmpd-lab" in outcome.summary, outcome
    wrong = ActiveCheck("switch1", "SNMP sysName", (plugin("check_snmp"), "-H", "$HOSTADDRESS$", "-p",
                                                    str(snmpd.port), "-P", "2c", "-C", COMMUNITY,
                                                    "-o", "1.3.6.1.2.1.1.5.0", "-r", "another-name"))
    assert (await execute(wrong, host, None)).state == State.CRIT
