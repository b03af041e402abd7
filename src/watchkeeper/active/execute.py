"""Run one active check where it belongs and turn the run into an outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from watchkeeper.active.spawn import run_plugin
from watchkeeper.active.verdict import outcome_of
from watchkeeper.checkapi import State
from watchkeeper.collect.ssh import SshTransport
from watchkeeper.errors import ConfigError
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.cycles import Outcome
from watchkeeper.model.hosts import HostConfig, host_address
from watchkeeper.model.macros import expand
from watchkeeper.model.plugin_runs import DEFAULT_PLUGIN_OUTPUT_BYTES, PluginRun

PLUGIN_DIR = "/usr/lib/nagios/plugins"


def macro_values(host: HostConfig, service: str) -> dict[str, str]:
    return {"HOSTNAME": host.name, "HOSTADDRESS": host_address(host),
            "HOSTALIAS": host.opts.alias or host.name, "SERVICEDESC": service, "USER1": PLUGIN_DIR}


LocalRunner = Callable[[list[str], float, int], Awaitable[PluginRun]]


async def _in_process(argv: list[str], timeout_s: float, limit: int) -> PluginRun:
    return await run_plugin(argv, timeout_s=timeout_s, limit=limit)


def runs_here(check: ActiveCheck, host: HostConfig) -> bool:
    """Whether the plugin runs on this machine (else over SSH on the host)."""
    return check.on != "host" or host.uri == "local"


def plugin_argv(check: ActiveCheck, host: HostConfig) -> list[str] | Outcome:
    """The command line with its macros filled in, or why it cannot be (an UNKNOWN outcome)."""
    try:
        return expand(list(check.argv), macro_values(host, check.name))
    except ConfigError as exc:
        return Outcome(check.name, State.UNKNOWN, str(exc))


async def execute(check: ActiveCheck, host: HostConfig, ssh: SshTransport | None,
                  local: LocalRunner = _in_process) -> Outcome:
    """`local` runs plugins on this machine: in this process by default (the daemon hands
    plugins that run here to its helper pool itself, without a task each)."""
    argv = plugin_argv(check, host)
    if isinstance(argv, Outcome):
        return argv
    if not runs_here(check, host):
        if ssh is None:
            return Outcome(check.name, State.UNKNOWN, f"this check runs on the host, which needs an ssh:// address; "
                           f"{host.name} is {host.uri}. Use --on server, or reach the host over SSH")
        run = await ssh.run_plugin(argv, check.timeout_s, DEFAULT_PLUGIN_OUTPUT_BYTES)
    else:
        run = await local(argv, check.timeout_s, DEFAULT_PLUGIN_OUTPUT_BYTES)
    return outcome_of(check.name, run, check.timeout_s)
