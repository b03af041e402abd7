"""The agent's collectors for processes, network mounts, systemd and TCP: what they print is
read back by the same parsers as the Checkmk agent's sections, on this machine."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import outcomes
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import State
from watchkeeper.collect.sections import split_sections
from watchkeeper.plugins.netfs.mounts import parse_mounts_text, parse_nfsmounts_v2
from watchkeeper.plugins.processes.ps import parse_ps_lnx
from watchkeeper.plugins.tcp.connections import parse_tcp_conn_stats


def printed(collector: Callable[[list[str]], None]) -> bytes:
    out: list[str] = []
    collector(out)
    return ("\n".join(out) + "\n").encode()


def test_the_process_table_from_proc_has_this_test_and_init() -> None:
    processes = parse_ps_lnx(split_sections(printed(agent.linux_processes)).sections["ps_lnx"])
    assert processes is not None
    me = next(p for p in processes.processes if p.pid == os.getpid())
    assert "pytest" in me.command or "python" in me.command
    assert me.rss_kib > 1000 and me.vsz_kib >= me.rss_kib
    assert any(p.pid == 1 for p in processes.processes)


def test_tcp_states_are_counted_from_proc_net_tcp() -> None:
    counts = parse_tcp_conn_stats(split_sections(printed(agent.linux_tcp)).sections["tcp_conn_stats"])
    assert all(count > 0 for count in counts.values())


def fake_stat(tmp_path: Path, body: str) -> None:
    script = tmp_path / "bin" / "stat"
    script.parent.mkdir(exist_ok=True)
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_network_mounts_answering_hanging_and_with_a_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "with space").mkdir()
    mounts = (f"nas:/data {tmp_path}/data nfs4 rw 0 0\n"
              f"nas:/media {tmp_path}/with\\040space nfs rw 0 0\n"
              f"//srv/share {tmp_path}/data cifs rw 0 0\n"
              "/dev/vda1 / ext4 rw 0 0\n")
    real_read: Callable[[str], str] = agent.read

    def read(path: str) -> str:
        return mounts if path == "/proc/mounts" else real_read(path)

    monkeypatch.setattr(agent, "read", read)
    output = printed(agent.linux_network_mounts)
    split = split_sections(output)
    nfs = parse_nfsmounts_v2(split.sections["nfsmounts_v2"])
    assert list(nfs.mounts) == [f"{tmp_path}/data", f"{tmp_path}/with space"]
    assert all(m.state == "ok" and m.size_bytes for m in nfs.mounts.values())
    assert parse_mounts_text(split.sections["cifsmounts"]).mounts[f"{tmp_path}/data"].state == "ok"

    # A server that stops answering leaves `stat -f` waiting: the agent gives up on it, says so,
    # and goes on.
    fake_stat(tmp_path, "exec sleep 600")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setattr(agent, "NETWORK_MOUNT_TIMEOUT_S", 0.5)
    seen = outcomes(printed(agent.linux_network_mounts))
    assert seen[f"NFS mount {tmp_path}/data"].state == State.CRIT
    assert seen[f"NFS mount {tmp_path}/data"].summary.startswith("hanging: the server does not answer (nas:/data)")
    assert seen[f"CIFS mount {tmp_path}/data"].state == State.CRIT


def test_no_network_mounts_print_no_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent, "read", lambda path: "/dev/vda1 / ext4 rw 0 0\n")
    assert printed(agent.linux_network_mounts) == b"\n"


def replay(tmp_path: Path, name: str, output: Path) -> None:
    """A command on PATH that prints a real capture (this VM runs no time daemon)."""
    script = tmp_path / "bin" / name
    script.parent.mkdir(exist_ok=True)
    script.write_text(f"#!/bin/sh\ncat '{output}'\n")
    script.chmod(0o755)


@pytest.mark.parametrize(("tool", "capture", "service"), [
    ("chronyc", "chronyc_tracking/no_sources_not_synchronised.txt", "chrony"),
    ("ntpq", "ntpq_p/telegraf_issue_2386_pps_syspeer.txt", "ntpd"),
])
def test_the_time_daemons_real_outputs_go_through_the_agent_to_one_time_sync_service(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str, capture: str, service: str) -> None:
    replay(tmp_path, tool, Path(__file__).parents[1] / "plugins" / "timesync" / "fixtures" / capture)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + printed(agent.linux_timesync))
    assert "Time sync" in found and found["Agent"].state == State.OK, found.get("Agent")
    if service == "chrony":
        assert found["Time sync"].state == State.CRIT and "not synchronised" in found["Time sync"].summary
    else:
        assert found["Time sync"].state == State.OK and found["Time sync"].summary.startswith("ntpd synchronised")


def test_lm_sensors_and_the_bmcs_real_outputs_go_through_the_agent(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    captures = Path(__file__).parents[1] / "plugins" / "sensors" / "fixtures"
    replay(tmp_path, "sensors", captures / "lm_sensors" / "raptorlake-coretemp.txt")
    replay(tmp_path, "ipmitool", captures / "ipmitool_sdr" / "ibm-system-x.txt")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    root = tmp_path / "root"
    (root / "dev").mkdir(parents=True)
    monkeypatch.setitem(agent.CONFIG, "hygiene", {"root": str(root)})
    monkeypatch.setitem(agent.CONFIG, "state_dir", str(tmp_path / "state"))
    without_bmc = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + printed(agent.linux_sensors))
    assert "Temperature Package id 0" in without_bmc and "Temperature Ambient Temp" not in without_bmc
    (root / "dev" / "ipmi0").write_bytes(b"")  # a BMC device: now ipmitool is asked too
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + printed(agent.linux_sensors))
    assert found["Temperature Ambient Temp"].state == State.OK and found["Agent"].state == State.OK


def test_an_rpm_hosts_dnf_outputs_go_through_the_agent_to_dnf_updates(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    captures = Path(__file__).parents[1] / "plugins" / "updates" / "fixtures"
    script = tmp_path / "bin" / "dnf"
    script.parent.mkdir()
    script.write_text(  # dnf's check-update exits 100 when updates are available
        f"#!/bin/sh\nif [ \"$2\" = check-update ]; then /bin/cat '{captures}/dnf_check_update/fedora25-excerpt.txt';"
        f" exit 100; fi\n/bin/cat '{captures}/yum_updateinfo_security/rhel7-all.txt'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # an RPM host: no apt-get
    monkeypatch.setitem(agent.CONFIG, "state_dir", str(tmp_path / "state"))
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + printed(agent.linux_dnf))
    assert found["DNF updates"].summary.startswith("10 other updates: PackageKit"), found["DNF updates"]
    assert found["Agent"].state == State.OK
