"""The FreeBSD agent (POSIX sh) under dash and busybox sh, with a PATH of stand-in commands that
print real FreeBSD outputs (tests/agent_outputs/freebsd, each with its source), then its output
through the production splitter and the engine: the services a FreeBSD host gets.

The stand-ins only answer what the agent asks; the generic tools (timeout, date, head, grep, ...)
are this machine's, as base FreeBSD has its own of each.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import missing, outcomes, run_after_discovery
from tests.sshd import SshServer, running_sshd, transport
from watchkeeper.agent import freebsd_agent_source
from watchkeeper.agent.watchkeeper_agent import postfix_queue_summary
from watchkeeper.checkapi import State
from watchkeeper.collect.sections import split_sections

OUTPUTS = Path(__file__).resolve().parents[1] / "agent_outputs" / "freebsd"
NOW = 1_789_900_897.0
"""The captured host's own clock (its `date +%s` beside kern.boottime)."""


def real(relative: str) -> str:
    return str(OUTPUTS / relative)


STANDINS = {
    # `sysctl -i` leaves out the OIDs this release lacks, and succeeds
    "sysctl": 'for name in "$@"; do case "$name" in -*) continue ;; esac; grep "^$name: " "{sysctl}"; done; exit 0',
    "swapinfo": 'cat "{swapinfo}"',
    "df": 'case "$1" in *i*) cat "{df_ki}" ;; *) cat "{df_kP}" ;; esac',
    "mount": 'cat "{mount_p}"',
    "netstat": 'cat "{netstat}"',
    "ifconfig": 'cat "{ifconfig}"',
    "iostat": 'cat "{iostat}"',
    "zpool": 'case "$1" in status) cat "{zpool_status}" ;; esac',
    "kldstat": "exit 0",
    "gmirror": 'cat "{gmirror}"',
    "graid": 'cat "{graid}"',
    "mfiutil": 'case "$2" in volumes) cat "{volumes}" ;; drives) cat "{drives}" ;; battery) cat "{battery}" ;; esac',
    "geom": 'cat "{geom}"',
    "freebsd-version": 'case "$1" in -k) echo 13.1-RELEASE-p6 ;; *) echo 13.1-RELEASE-p5 ;; esac',
    "freebsd-update": 'cat "{freebsd_update}"',
    "pkg": 'case "$1" in -N) exit 0 ;; audit) cat "{pkg_audit}"; exit 1 ;; version) cat "{pkg_version}" ;; esac',
    "etcupdate": 'cat "{etcupdate}"',
    "pgrep": '[ "$2" = ntpd ]',
    "mailq": 'cat "{mailq}"',
    "smartctl": 'case "$1" in --scan-open) cat "{smart_scan}" ;; *) cat "{smart}" ;; esac',
    "ntpq": 'cat "{ntpq}"',
    "hostname": "echo freebsd14",
    "date": 'case "$1" in +%s) echo 1789900897 ;; *) exec /bin/date "$@" ;; esac',
    "uname": 'case "$1" in -r) echo 14.5-RELEASE ;; -m) echo amd64 ;; *) echo FreeBSD ;; esac',
}
FILES = {
    "sysctl": "sysctl/freebsd14_5_vm.txt", "swapinfo": "swapinfo_k/go_osstat_fixture_gpt_swapfs_2pct.txt",
    "df_ki": "df_ki/freebsd14_5_vm.txt", "df_kP": "df_kP/freebsd14_5_vm.txt", "mount_p": "mount_p/freebsd14_5_vm.txt",
    "netstat": "netstat_ibn/freebsd14_5_vm.txt", "ifconfig": "ifconfig/freebsd14_5_vm.txt",
    "iostat": "iostat_dxI/freebsd11_2_five_disks.txt",
    "zpool_status": "zpool_status/freebsd_mfi_online_after_resilver.txt",
    "gmirror": "gmirror_status/source_format_degraded_synchronizing.txt",
    "graid": "graid_status/handbook_optimal_mirror.txt",
    "volumes": "mfiutil_show_volumes/seed_os_and_vm_luns_degraded.txt",
    "drives": "mfiutil_show_drives/unconfigured_good_after_swap.txt",
    "battery": "mfiutil_show_battery/source_format_normal.txt",
    "geom": "geom_disk_list/ceph_volume_ada3_ssd.txt",
    "freebsd_update": "freebsd_update_fetch/92_release_updates_and_eol.txt",
    "pkg_audit": "pkg_audit/opnsense_131_one_vulnerable.txt",
    "pkg_version": "pkg_version/vuls_mixed.txt",
    "etcupdate": "etcupdate_status/source_format_two_conflicts.txt",
    "ntpq": "../../plugins/timesync/fixtures/ntpq_p/telegraf_issue_2386_pps_syspeer.txt",
    "mailq": "sendmail_mailq/two_deferred.txt",
    "smart_scan": "smartctl_scan/freebsd_four_ada.txt",
    "smart": "../../plugins/smart/fixtures/smartctl/ata_sata_hdd_healthy.txt",
}


def host(tmp_path: Path, **replace: str) -> dict[str, str]:
    """A FreeBSD host's commands as stand-ins; the environment to run the agent with."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    files = {key: real(value) for key, value in FILES.items()} | replace
    for name, body in STANDINS.items():
        script = bin_dir / name
        script.write_text("#!/bin/sh\n" + body.format(**files) + "\n")
        script.chmod(0o755)
    dev = tmp_path / "dev"
    dev.mkdir(exist_ok=True)
    (dev / "mfi0").touch()
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "var/db/etcupdate").mkdir(parents=True, exist_ok=True)
    (root / "etc/passwd").write_text("root:*:0:0:Charlie &:/root:/bin/csh\n"
                                     "nobody:*:65534:65534:Unprivileged user:/nonexistent:/usr/sbin/nologin\n")
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "WATCHKEEPER_AGENT_STATE_DIR": str(tmp_path / "state"),
            "WATCHKEEPER_AGENT_DEV": str(dev), "WATCHKEEPER_AGENT_ROOT": str(root), "WATCHKEEPER_AGENT_WAIT": "1",
            "LC_ALL": "C"}


SHELLS = {"dash": ["dash"], "busybox": ["busybox", "sh"]}


def run_agent(shell: str, env: dict[str, str]) -> bytes:
    argv = SHELLS[shell]
    if shutil.which(argv[0]) is None:
        missing(f"{argv[0]} (Debian package {argv[0]})")
    done = subprocess.run([*argv, "-s"], input=freebsd_agent_source(), env=env, capture_output=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_agent_passes_shellcheck_as_posix_sh(tmp_path: Path) -> None:
    if shutil.which("shellcheck") is None:
        missing("shellcheck (Debian package shellcheck)")
    script = tmp_path / "agent.sh"
    script.write_bytes(freebsd_agent_source())
    done = subprocess.run(["shellcheck", "-s", "sh", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_every_collector_prints_its_section_and_nothing_fails(shell: str, tmp_path: Path) -> None:
    env = host(tmp_path)
    run_agent(shell, env)  # the first run starts the background fetches and waits for them
    split = split_sections(run_agent(shell, env))
    assert {"check_mk", "freebsd_load", "freebsd_cpu", "freebsd_mem", "freebsd_uptime", "freebsd_df", "mounts",
            "freebsd_if", "freebsd_iostat", "ntp", "mail_queue", "smart", "zfs", "megaraid", "geom_raid", "geom_disks",
            "reboot_needed", "freebsd_update", "pkg_audit", "pkg_version", "config_unmerged",
            "ssh_authorized_keys"} <= set(split.sections)
    header = [" ".join(row) for row in split.sections["check_mk"]]
    assert "AgentOS: freebsd" in header and not any(line.startswith("FailedCollectors") for line in header)
    assert split.sections["freebsd_update"][0][0].startswith("made ")


def test_a_freebsd_host_gets_the_services_a_linux_host_has_and_its_own(tmp_path: Path) -> None:
    env = host(tmp_path)
    run_agent("dash", env)
    found = outcomes(run_agent("dash", env), now=NOW)
    assert found["CPU load"].state == State.OK
    assert "2 cores" in found["CPU load"].summary
    assert found["Memory"].state == State.OK
    assert "swap used: 1.53%" in found["Memory"].summary
    assert found["Uptime"].metrics[0].value == 246.0  # kern.boottime against the host's own clock
    assert "Filesystem /" in found and "Filesystem /dev" not in found
    assert found["Mount options /"].state == State.OK
    assert "Interface vtnet0" in found and "Interface lo0" not in found
    assert {name for name in found if name.startswith("Disk IO")} == {f"Disk IO ada{n}" for n in range(5)}
    assert found["ZFS pool zroot"].state == State.OK
    assert found["SMART /dev/ada0"].state == State.OK  # the four scanned paths are one disk (one serial)
    assert found["Mail queue"].state == State.CRIT  # the oldest has waited since September of last year
    assert "Connection timed out with mailer.domain" in found["Mail queue"].summary
    assert "Time sync" in found and found["Time sync"].state != State.UNKNOWN, found.get("Time sync")
    assert found["RAID VD c0/mfid1"].state == State.CRIT and "degraded" in found["RAID VD c0/mfid1"].summary
    assert found["RAID VD c0/mfid0"].state == State.OK
    assert found["RAID battery c0"].state == State.OK
    assert found["GEOM RAID mirror/gm0"].state == State.CRIT
    assert "no redundancy left" in found["GEOM RAID mirror/gm0"].summary
    assert found["GEOM RAID raid/r0"].state == State.OK
    assert found["Reboot needed"].state == State.WARN
    assert found["FreeBSD updates"].state == State.CRIT
    assert "9.2-RELEASE-p17" in found["FreeBSD updates"].summary
    assert found["Vulnerable packages"].state == State.WARN
    assert "py39-setuptools-63.1.0" in found["Vulnerable packages"].summary
    assert found["Package updates"].state == State.WARN  # teTeX-base is orphaned
    assert "2 packages have updates: bash-4.2.45, gettext-0.18.3.1" in found["Package updates"].summary
    assert found["Unmerged configuration"].state == State.WARN
    assert "/etc/rc.conf, /etc/ssh/sshd_config" in found["Unmerged configuration"].summary


def test_the_seeds_mfid0_that_now_names_the_vm_lun_is_crit(tmp_path: Path) -> None:
    before = run_agent("dash", host(tmp_path, geom=real("geom_disk_list/seed_mfid0_os_lun.txt")))
    after = run_agent("dash", host(tmp_path, geom=real("geom_disk_list/seed_mfid0_vm_lun.txt")))
    found = run_after_discovery(before, after)
    identity = next(outcome for name, outcome in found.items() if "mfid0" in name)
    assert identity.state == State.CRIT
    assert "32.00 GiB" in identity.summary and "2.91 TiB" in identity.summary


def test_a_command_that_hangs_is_stopped_and_named_and_the_rest_still_report(tmp_path: Path) -> None:
    env = host(tmp_path) | {"WATCHKEEPER_TIMEOUT": "1"}
    (tmp_path / "bin" / "netstat").write_text("#!/bin/sh\nexec sleep 30\n")
    split = split_sections(run_agent("dash", env))
    failed = [" ".join(row) for row in split.sections["check_mk"] if row[0].startswith("FailedCollectors")]
    assert failed == ["FailedCollectors: interfaces(timeout)"]
    assert "freebsd_mem" in split.sections


def test_a_state_directory_that_cannot_be_made_is_said_on_the_update_services(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = host(tmp_path) | {"WATCHKEEPER_AGENT_STATE_DIR": str(blocker / "state")}
    found = outcomes(run_agent("dash", env), now=NOW)
    assert found["FreeBSD updates"].state == State.UNKNOWN
    assert "cannot create the agent's state directory" in found["FreeBSD updates"].summary


def test_cached_fetches_are_private_to_root(tmp_path: Path) -> None:
    env = host(tmp_path)
    run_agent("dash", env)
    state = Path(env["WATCHKEEPER_AGENT_STATE_DIR"])
    assert state.stat().st_mode & 0o777 == 0o700
    assert {path.name: path.stat().st_mode & 0o777 for path in state.iterdir()} == {
        "freebsd-update": 0o600, "pkg-audit": 0o600, "pkg-version": 0o600}


def test_without_the_tools_of_a_section_the_section_is_left_out(tmp_path: Path) -> None:
    env = host(tmp_path)
    for name in ("mfiutil", "gmirror", "graid", "zpool", "pkg", "freebsd-update"):
        (tmp_path / "bin" / name).unlink()
    os.remove(tmp_path / "dev" / "mfi0")
    split = split_sections(run_agent("busybox", env))
    assert not {"megaraid", "geom_raid", "zfs", "pkg_audit", "freebsd_update"} & set(split.sections)


# ---------------------------------------------------------------- over SSH, chosen by the host's uname
@pytest.fixture
def freebsd_sshd(tmp_path: Path) -> Iterator[SshServer]:
    """A real sshd whose sessions see the FreeBSD stand-ins first on their PATH (`uname -s` says FreeBSD)."""
    environment = host(tmp_path)
    directory = tmp_path / "sshd"
    directory.mkdir()
    environment.pop("WATCHKEEPER_AGENT_WAIT")
    with running_sshd(directory, environment) as server:
        yield server


@pytest.mark.slow
def test_host_add_over_ssh_picks_the_sh_agent_by_uname_and_says_so(
        freebsd_sshd: SshServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from watchkeeper.cli.main import main

    home = str(tmp_path / "home")
    assert main(["--home", home, "init", "--no-local"]) == 0
    (tmp_path / "home" / "ssh").mkdir(exist_ok=True)
    freebsd_sshd.known_hosts(tmp_path / "home" / "ssh" / "known_hosts")  # trusted, as `host trust` would
    address = f"ssh://{getpass.getuser()}@127.0.0.1:{freebsd_sshd.port}"
    assert main(["--home", home, "host", "add", "bsd1", address, "--option", f"ssh_key={freebsd_sshd.client_key}"]) == 0
    said = capsys.readouterr()
    assert "watchkeeper_agent_freebsd.sh, piped to `sh -s` (freebsd, by its `uname -s`)" in said.out, said
    assert main(["--home", home, "check", "bsd1"]) in (0, 1, 2)
    checked = capsys.readouterr().out
    assert "GEOM RAID mirror/gm0" in checked and "RAID VD c0/mfid1" in checked


@pytest.mark.slow
async def test_the_os_option_skips_the_question(freebsd_sshd: SshServer, tmp_path: Path) -> None:
    ssh = transport(freebsd_sshd, tmp_path, os_name="linux")
    try:
        output = await ssh.fetch()
    finally:
        await ssh.close()
    assert "python3 -" in ssh.agent and "from the host option os" in ssh.agent
    assert "mem" in split_sections(output.data).sections  # the Python agent ran, not the sh one


def test_authorized_keys_are_fingerprinted_by_ssh_keygen_and_a_marker_in_etc_is_found(tmp_path: Path) -> None:
    if shutil.which("ssh-keygen") is None:
        missing("ssh-keygen (Debian package openssh-client)")
    env = host(tmp_path)
    root = Path(env["WATCHKEEPER_AGENT_ROOT"])
    keys = root / "root/.ssh"
    keys.mkdir(parents=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "admin@laptop", "-f", str(tmp_path / "k1")],
                   check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "backup", "-f",
                    str(tmp_path / "k2")], check=True)
    first, second = (tmp_path / "k1.pub").read_text().strip(), (tmp_path / "k2.pub").read_text().strip()
    (keys / "authorized_keys").write_text(f"# keys\n{first}\ncommand=\"/usr/local/bin/backup\",no-pty {second}\n"
                                          "this is no key\n")
    (root / "etc/ssh").mkdir()
    (root / "etc/ssh/sshd_config").write_text("Port 22\n<<<<<<< ours\nPermitRootLogin no\n=======\n>>>>>>> theirs\n")
    split = split_sections(run_agent("busybox", env))
    rows = split.sections["ssh_authorized_keys"]
    expected = [subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(tmp_path / name)], check=True,
                               capture_output=True, text=True).stdout.split()[1] for name in ("k1.pub", "k2.pub")]
    path = "/root/.ssh/authorized_keys"
    assert rows == [["root", path, "ssh-ed25519", expected[0], "admin@laptop", "-"],
                    ["root", path, "ssh-rsa", expected[1], "backup", "options"],
                    ["root", path, "unreadable", "-", "-", "-"]]
    markers = [row for row in split.sections["config_unmerged"] if row[0] == "marker"]
    assert markers == [["marker", "/etc/ssh/sshd_config", "2"]]


def test_a_megaraid_lun_renumbered_onto_a_name_of_the_same_size_is_crit_by_its_volume(tmp_path: Path) -> None:
    """The installer's new numbering again, with two LUNs of one size: only mfiutil's volume
    list (level and name) tells them apart, since an mfid disk has no serial."""
    volumes = (OUTPUTS / "mfiutil_show_volumes/seed_os_and_vm_luns_degraded.txt").read_text()
    renumbered = tmp_path / "renumbered.txt"
    renumbered.write_text(volumes.replace("mfid0", "mfidX").replace("mfid1", "mfid0").replace("mfidX", "mfid1"))
    os_lun = real("geom_disk_list/seed_mfid0_os_lun.txt")
    before = run_agent("dash", host(tmp_path, geom=os_lun))
    after = run_agent("dash", host(tmp_path, geom=os_lun, volumes=str(renumbered)))
    identity = run_after_discovery(before, after)["Block device mfid0"]
    assert identity.state == State.CRIT
    assert "RAID-1 os" in identity.summary and "RAID-5 vms" in identity.summary


# ---------------------------------------------------------------- mail queues, summarised on the host
def mail_rows(tmp_path: Path, standins: dict[str, str], mailer: str = "") -> list[list[str]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    env = host(tmp_path) | {"TZ": "UTC"}
    (tmp_path / "bin" / "mailq").unlink()
    for name, body in standins.items():
        (tmp_path / "bin" / name).write_text(f"#!/bin/sh\n{body}\n")
        (tmp_path / "bin" / name).chmod(0o755)
    if mailer:
        (Path(env["WATCHKEEPER_AGENT_ROOT"]) / "etc/mail").mkdir(parents=True)
        (Path(env["WATCHKEEPER_AGENT_ROOT"]) / "etc/mail/mailer.conf").write_text(mailer)
    return split_sections(run_agent("dash", env)).sections.get("mail_queue", [])


def test_postfix_queue_is_summarised_by_awk_exactly_as_the_linux_agent_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listing = Path(__file__).resolve().parents[1] / "plugins/mail/fixtures/postqueue_p/netdata-12991-requests.txt"
    rows = mail_rows(tmp_path, {"postqueue": f'cat "{listing}"'})
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        expected = [line.split("\t") for line in postfix_queue_summary(listing.read_text(), NOW)]  # type: ignore[no-untyped-call]
    finally:
        monkeypatch.undo()
        time.tzset()
    assert sorted(rows) == sorted(expected)


def test_sendmail_and_dma_queues(tmp_path: Path) -> None:
    sendmail = mail_rows(tmp_path / "a", {"mailq": f'cat "{real("sendmail_mailq/msp_empty_mta_one.txt")}"'})
    # Mon Sep 10 22:23 of the captured host's year (2026), in UTC as TZ says
    assert sendmail == [["queue", "sendmail", "queued", "1", "1789078980", "9"], ["total", "sendmail", "1", "9"]]
    dma = mail_rows(tmp_path / "b", {"mailq": f'cat "{real("dma_mailq/source_format_two.txt")}"'},
                    mailer="sendmail\t/usr/libexec/dma\nmailq\t\t/usr/libexec/dma\n")
    assert dma == [["queue", "dma", "queued", "2", "-", "0"]]


def test_an_mta_that_cannot_list_its_queue_is_an_error_not_an_empty_queue(tmp_path: Path) -> None:
    failing = 'echo "mailq: cannot chdir(/var/spool/mqueue/): Permission denied" >&2; exit 78'
    rows = mail_rows(tmp_path, {"mailq": failing})
    assert rows == [["error", "sendmail", "mailq: cannot chdir(/var/spool/mqueue/): Permission denied"]]


def test_a_tool_whose_last_line_has_no_newline_does_not_swallow_the_next_header(tmp_path: Path) -> None:
    """smartctl's real `-x` output ends without one; the next section (megaraid) vanished."""
    env = host(tmp_path)
    swapinfo = real("swapinfo_k/go_osstat_fixture_gpt_swapfs_2pct.txt")
    (tmp_path / "bin" / "swapinfo").write_text(f'#!/bin/sh\nprintf "%s" "$(cat "{swapinfo}")"\n')
    audit = real("pkg_audit/opnsense_131_one_vulnerable.txt")  # and a background fetch's output
    (tmp_path / "bin" / "pkg").write_text(
        f'#!/bin/sh\ncase "$1" in -N) exit 0 ;; audit) printf "%s" "$(cat "{audit}")" ;; esac\n')
    run_agent("dash", env)
    split = split_sections(run_agent("dash", env))
    assert "freebsd_uptime" in split.sections and "pkg_version" in split.sections
    assert split.sections["freebsd_mem"][-1] == ["/dev/gpt/swapfs   1048576    16056  1032520     2%"]
