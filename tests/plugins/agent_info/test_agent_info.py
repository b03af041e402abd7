"""The agent's own header: the OS service, and collectors that failed."""

from __future__ import annotations

from tests.conftest import CHECKMK_1_4, agent_section
from watchkeeper.checkapi import Result, State
from watchkeeper.checkapi.plugin import NoParams
from watchkeeper.plugins.agent_info.agent_info import check_agent_info, parse_check_mk


def test_checkmk_agent_header_gives_the_os_service() -> None:
    info = parse_check_mk(agent_section(CHECKMK_1_4, "check_mk"))
    assert info is not None and info.version == "1.4.0i2"
    assert [r.state for r in check_agent_info("", NoParams(), info, {}, 0.0) if isinstance(r, Result)] == [State.OK]


def test_failed_agent_collectors_are_a_warning() -> None:
    info = parse_check_mk([["AgentOS:", "linux"], ["FailedCollectors:", "linux_df(PermissionError)"]])
    assert info is not None
    assert Result(State.WARN, "agent collectors failed: linux_df(PermissionError); run the agent by hand on "
                  "the host to see why") in list(check_agent_info("", NoParams(), info, {}, 0.0))


def test_a_checkmk_agents_labels_and_plugins_are_shown_on_the_os_service() -> None:
    from tests.conftest import agent_output, outcomes

    seen = outcomes(agent_output("checkmk-2.3.0b1-debian12-degraded.txt").read_bytes())
    assert "Labels from the agent: cmk/device_type=vm" in seen["OS"].details
    assert '/tmp/cmk/lib/plugins/mk_apt:CMK_VERSION="2.2.0b3"' in seen["OS"].details
    assert "pluginsdir" not in seen["OS"].details


def test_each_failed_python_plugin_is_named() -> None:
    info = parse_check_mk([["AgentOS:", "linux"], ["FailedPythonPlugins:", "mk_mongodb.py"],
                           ["FailedPythonPlugins:", "mk_jolokia.py"]])
    assert info is not None and info.failed_collectors == "mk_mongodb.py, mk_jolokia.py"
