"""Run one active check where it belongs and turn the run into an outcome."""

from __future__ import annotations

from watchkeeper.active.macros import expand
from watchkeeper.active.model import ActiveCheck
from watchkeeper.active.spawn import DEFAULT_PLUGIN_OUTPUT_BYTES, run_plugin
from watchkeeper.active.verdict import outcome_of
from watchkeeper.checkapi import State
from watchkeeper.collect.hosts import HostConfig, host_address
from watchkeeper.collect.ssh import SshTransport
from watchkeeper.engine.model import Outcome
from watchkeeper.errors import ConfigError

PLUGIN_DIR = "/usr/lib/nagios/plugins"


def macro_values(host: HostConfig, service: str) -> dict[str, str]:
    return {"HOSTNAME": host.name, "HOSTADDRESS": host_address(host),
            "HOSTALIAS": str(host.options.get("alias") or host.name), "SERVICEDESC": service, "USER1": PLUGIN_DIR}


async def execute(check: ActiveCheck, host: HostConfig, ssh: SshTransport | None) -> Outcome:
    try:
        argv = expand(list(check.argv), macro_values(host, check.name))
    except ConfigError as exc:
        return Outcome(check.name, State.UNKNOWN, str(exc))
    if check.on == "host" and host.uri != "local":
        if ssh is None:
            return Outcome(check.name, State.UNKNOWN, f"this check runs on the host, which needs an ssh:// address; "
                           f"{host.name} is {host.uri}. Use --on server, or reach the host over SSH")
        run = await ssh.run_plugin(argv, check.timeout_s, DEFAULT_PLUGIN_OUTPUT_BYTES)
    else:
        run = await run_plugin(argv, timeout_s=check.timeout_s)
    return outcome_of(check.name, run, check.timeout_s)
