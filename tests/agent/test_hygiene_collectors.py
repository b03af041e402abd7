"""The agent's host-hygiene collectors against real tools: apt with a local repository the test
builds (dpkg-deb, dpkg-scanpackages) holding a security and an ordinary update, keys made by
OpenSSH's ssh-keygen (whose own fingerprints ours must equal), needrestart on this machine, and
a file tree of their own for /etc, /run and /boot. Then the engine checks what they print."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import missing, outcomes, run_after_discovery
from watchkeeper.agent import watchkeeper_agent as agent
from watchkeeper.checkapi import State

NOW = time.time()
TESTS = Path(__file__).resolve().parents[1]


def keep(output: bytes, relative: str) -> None:
    """With WATCHKEEPER_WRITE_FIXTURES=1, keep what the agent printed as a seed of the parser fuzzer."""
    if os.environ.get("WATCHKEEPER_WRITE_FIXTURES"):
        (TESTS / relative).parent.mkdir(parents=True, exist_ok=True)
        (TESTS / relative).write_bytes(output)


def printed(collector: Callable[[list[str]], None]) -> bytes:
    out: list[str] = []
    collector(out)
    return ("\n".join(out) + "\n").encode()


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A root of its own for the agent's files, and a state directory for its caches."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    monkeypatch.setitem(agent.CONFIG, "hygiene", {"root": str(root)})
    monkeypatch.setitem(agent.CONFIG, "state_dir", str(tmp_path / "state"))
    yield root


def hygiene(**settings: object) -> None:
    config = agent.CONFIG["hygiene"]
    assert isinstance(config, dict)
    config.update(settings)


# ---------------------------------------------------------------- APT with a local repository
def build_package(work: Path, name: str, version: str) -> Path:
    source = work / f"{name}-{version}"
    (source / "DEBIAN").mkdir(parents=True)
    (source / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: Lab <lab@localhost>\n"
        f"Description: a package of the Watchkeeper test lab\n")
    target = work / f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(source), str(target)], check=True,
                   capture_output=True)
    return target


def repository(directory: Path, label: str, suite: str, packages: list[Path]) -> None:
    """A flat repository: the packages, Packages from dpkg-scanpackages, and a Release naming them."""
    directory.mkdir(parents=True)
    for package in packages:
        shutil.copy(package, directory)
    scanned = subprocess.run(["dpkg-scanpackages", "--multiversion", "."], cwd=directory, check=True,
                             capture_output=True, text=True).stdout
    (directory / "Packages").write_text(scanned)
    digest = hashlib.sha256(scanned.encode()).hexdigest()
    (directory / "Release").write_text(
        f"Origin: Watchkeeper\nLabel: {label}\nSuite: {suite}\nVersion: 1\nCodename: {suite}\n"
        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime())}\nArchitectures: all amd64\n"
        f"SHA256:\n {digest} {len(scanned.encode())} Packages\n")


INSTALLED = """Package: {name}
Status: install ok installed
Priority: optional
Section: admin
Maintainer: Lab <lab@localhost>
Architecture: all
Version: {version}
Description: a package of the Watchkeeper test lab

"""


@pytest.fixture
def apt_lab(tmp_path: Path, tree: Path) -> list[str]:
    """apt's own options that point it at the lab: its sources, lists, cache and dpkg status."""
    for tool in ("apt-get", "dpkg-deb", "dpkg-scanpackages"):
        if shutil.which(tool) is None:
            missing(f"{tool} (Debian packages apt and dpkg-dev)")
    work = tmp_path / "apt"
    work.mkdir()
    repository(work / "security", "Lab-Security", "lab-security", [build_package(work, "wk-lab-openssl", "1.1")])
    repository(work / "main", "Lab", "lab", [build_package(work, "wk-lab-tool", "2.0")])
    (work / "status").write_text(INSTALLED.format(name="wk-lab-openssl", version="1.0")
                                 + INSTALLED.format(name="wk-lab-tool", version="1.9"))
    (work / "sources.list").write_text(f"deb [trusted=yes] file:{work}/security ./\n"
                                       f"deb [trusted=yes] file:{work}/main ./\n")
    for name in ("lists/partial", "cache/archives/partial", "parts", "preferences.d"):
        (work / name).mkdir(parents=True)
    options = [f"Dir::Etc::SourceList={work}/sources.list", f"Dir::Etc::SourceParts={work}/parts",
               f"Dir::Etc::PreferencesParts={work}/preferences.d", f"Dir::State::Lists={work}/lists",
               f"Dir::Cache={work}/cache", f"Dir::State::status={work}/status", "APT::Architecture=amd64",
               "Dir::Etc::Trusted=/dev/null", "Dir::Etc::TrustedParts=/nonexistent"]
    update = ["apt-get", "-q", *(item for option in options for item in ("-o", option)), "update"]
    done = subprocess.run(update, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    hygiene(apt_options=[item for option in options for item in ("-o", option)], apt_lists=str(work / "lists"))
    return options


def test_real_apt_reports_the_labs_security_update_apart_from_the_other(apt_lab: list[str]) -> None:
    output = printed(agent.linux_apt)
    header = output.split(b"\n", 1)[0].decode()
    assert header.startswith("<<<apt:sep(0):cached(") and header.endswith(",3600)>>>"), header
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + output)["APT updates"]
    assert found.state == State.OK, found  # just seen: security updates wait three days before they warn
    assert "1 security updates: wk-lab-openssl" in found.summary, found
    assert "1 other updates: wk-lab-tool" in found.summary
    later = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + output, now=NOW + 60)["APT updates"]
    assert "last updated" not in later.summary  # the lab's lists were fetched just now


def test_the_apt_dry_run_is_cached_for_an_hour_and_made_again_in_a_new_boot(
        apt_lab: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = printed(agent.linux_apt)
    (tmp_path / "apt" / "status").write_text(INSTALLED.format(name="wk-lab-openssl", version="1.1")
                                             + INSTALLED.format(name="wk-lab-tool", version="2.0"))  # patched
    assert printed(agent.linux_apt) == first  # from the cache: apt is not asked again within the hour
    monkeypatch.setattr(agent, "_boot_id", lambda: "another-boot")
    again = printed(agent.linux_apt)
    assert b"No updates pending for installation" in again and b"wk-lab" not in again


def test_a_failing_apt_is_named_by_the_agent_not_taken_for_no_updates(
        apt_lab: list[str], tmp_path: Path) -> None:
    (tmp_path / "apt" / "sources.list").write_text("deb [trusted=yes this is no sources line\n")
    with pytest.raises(RuntimeError, match="apt-get exited with 100: E: "):
        printed(agent.linux_apt)
    output = agent.collect()  # type: ignore[no-untyped-call]
    assert b"FailedCollectors: linux_apt(RuntimeError)" in output, output[-300:]


def test_the_cache_is_private_to_the_agent(apt_lab: list[str]) -> None:
    printed(agent.linux_apt)
    state = Path(str(agent.CONFIG["state_dir"]))
    assert (state / "cache").stat().st_mode & 0o777 == 0o700
    assert (state / "cache" / "apt.json").stat().st_mode & 0o777 == 0o600


# ---------------------------------------------------------------- reboot needed
def test_the_reboot_flag_and_real_needrestart_are_one_service(tree: Path) -> None:
    if shutil.which("needrestart") is None:
        missing("needrestart (Debian package needrestart)")
    (tree / "run").mkdir()
    (tree / "run" / "reboot-required").write_text("*** System restart required ***\n")
    (tree / "run" / "reboot-required.pkgs").write_text("libc6\nlinux-image-6.1.0-22-amd64\nlibc6\n")
    output = printed(agent.linux_reboot_needed)
    assert b"NEEDRESTART-VER:" in output, output  # needrestart itself answered
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + output)
    assert found["Reboot needed"].state == State.WARN
    assert "the package system asks for a reboot (for libc6, linux-image-6.1.0-22-amd64)" in found[
        "Reboot needed"].summary
    assert found["Agent"].state == State.OK, found["Agent"]  # every needrestart line was understood


def test_a_newer_kernel_in_boot_than_the_running_one(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / "boot").mkdir()
    for release in ("6.1.0-9-amd64", "6.1.0-10-amd64", "6.1.0-22-amd64"):
        (tree / "boot" / f"vmlinuz-{release}").write_bytes(b"")
    monkeypatch.setattr("platform.release", lambda: "6.1.0-10-amd64")
    monkeypatch.setattr(agent, "_which", lambda name: None if name == "needrestart" else shutil.which(name))
    output = printed(agent.linux_reboot_needed)
    assert b"kernel_installed 6.1.0-9-amd64 6.1.0-10-amd64 6.1.0-22-amd64" in output  # by version, not text
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + output)["Reboot needed"]
    assert found.state == State.WARN and "running kernel 6.1.0-10-amd64, a reboot starts 6.1.0-22-amd64" in (
        found.summary)


# ---------------------------------------------------------------- unmerged configuration
def test_conflict_markers_and_unmerged_package_versions_are_named(tree: Path) -> None:
    etc = tree / "etc"
    (etc / "ssh").mkdir()
    (etc / "ssh" / "sshd_config").write_text("Port 22\n<<<<<<< ours\nPermitRootLogin no\n=======\n"
                                             "PermitRootLogin yes\n>>>>>>> theirs\n")
    (etc / "default").mkdir()
    (etc / "default" / "grub").write_text("GRUB_TIMEOUT=5\n")
    (etc / "default" / "grub.dpkg-dist").write_text("GRUB_TIMEOUT=0\n")
    os.utime(etc / "default" / "grub", (NOW - 86400, NOW - 86400))
    (etc / "kept.conf").write_text("new\n")
    (etc / "kept.conf.dpkg-old").write_text("old\n")
    os.utime(etc / "kept.conf.dpkg-old", (NOW - 86400, NOW - 86400))  # older than its file: merged
    (etc / "yum.conf.rpmsave").write_text("x\n")  # its file is gone
    (etc / "firmware.bin").write_bytes(b"\0\1<<<<<<< not text\n")
    (etc / "notes.md").write_text("a diagram:\n  <<<<<< six is no marker\n")
    output = printed(agent.linux_unmerged_config)
    keep(output, "plugins/config_files/fixtures/agent/etc-with-markers-and-leftovers.txt")
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + output)["Unmerged configuration"]
    assert found.state == State.WARN
    assert "1 files hold merge conflict markers: /etc/ssh/sshd_config (line 2)" in found.summary, found
    assert "2 package leftovers newer than the file they shadow" in found.summary
    assert "/etc/default/grub.dpkg-dist" in found.summary
    assert "/etc/yum.conf.rpmsave (the file it belongs to is gone)" in found.summary
    assert "kept.conf" not in found.summary and "firmware" not in found.summary and "notes" not in found.summary


def test_the_scan_of_etc_is_bounded_and_says_where_it_stopped(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(30):
        (tree / "etc" / f"file{number:02}.conf").write_text("x" * 1000 + "\n")
    monkeypatch.setattr(agent, "UNMERGED_MAX_FILES", 10)
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + printed(agent.linux_unmerged_config))
    assert "the scan stopped at its file limit after 10 files" in found["Unmerged configuration"].summary


# ---------------------------------------------------------------- SSH authorized keys
def keygen(directory: Path, kind: str, comment: str) -> tuple[str, str]:
    """(public key line, OpenSSH's own SHA256 fingerprint)."""
    if shutil.which("ssh-keygen") is None:
        missing("ssh-keygen (Debian package openssh-client)")
    key = directory / f"id_{kind}_{comment.replace('@', '_')}"
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment, "-f", str(key)], check=True)
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", f"{key}.pub"], check=True,
                                 capture_output=True, text=True).stdout.split()[1]
    return Path(f"{key}.pub").read_text().strip(), fingerprint


def test_authorized_keys_fingerprints_equal_openssh_and_a_new_key_is_named(tree: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    admin, admin_print = keygen(keys, "ed25519", "admin@laptop")
    backup, backup_print = keygen(keys, "rsa", "bacula")
    intruder, intruder_print = keygen(keys, "ecdsa", "nobody@nowhere")
    (tree / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n"
                                         "backup:x:34:34:backup:/var/backups:/bin/sh\n"
                                         "alice:x:1000:1000::/home/alice:/bin/bash\n")
    (tree / "root" / ".ssh").mkdir(parents=True)
    (tree / "root" / ".ssh" / "authorized_keys").write_text(f"# admins\n{admin}\n")
    (tree / "var" / "backups" / ".ssh").mkdir(parents=True)
    (tree / "var" / "backups" / ".ssh" / "authorized_keys").write_text(
        f'command="/usr/sbin/bacula-fd",no-pty {backup}\nthis is not a key\n')
    (tree / "home" / "alice" / ".ssh" / "authorized_keys").mkdir(parents=True)  # there, but no file to read
    hygiene(authorized_keys_files=[".ssh/authorized_keys"])
    output = printed(agent.linux_ssh_keys)
    keep(output, "plugins/ssh_keys/fixtures/agent/three-users-one-with-options.txt")
    assert admin.split()[1].encode() not in output and backup.split()[1].encode() not in output  # never a key
    assert admin_print.encode() in output and backup_print.encode() in output  # OpenSSH's own fingerprints
    found = outcomes(b"<<<check_mk>>>\nAgentOS: linux\n" + output)
    assert found["SSH keys root"].state == State.OK and "1 keys as accepted: ssh-ed25519 'admin@laptop'" in (
        found["SSH keys root"].summary)
    assert found["SSH keys backup"].state == State.WARN and "with options" in found["SSH keys backup"].summary
    assert "has a line that is no public key" in found["SSH keys backup"].summary
    alice = found["SSH keys alice"]
    assert alice.state == State.WARN and "cannot read /home/alice/.ssh/authorized_keys: its keys are not checked" in (
        alice.summary)

    with (tree / "root" / ".ssh" / "authorized_keys").open("a") as handle:
        handle.write(intruder + "\n")
    changed = printed(agent.linux_ssh_keys)
    after = run_after_discovery(b"<<<check_mk>>>\nAgentOS: linux\n" + output,
                                b"<<<check_mk>>>\nAgentOS: linux\n" + changed)["SSH keys root"]
    assert after.state == State.WARN
    assert f"1 keys added since discovery: ecdsa-sha2-nistp256 'nobody@nowhere' ({intruder_print})" in after.summary


def test_the_key_files_are_those_sshd_itself_names(tree: Path, tmp_path: Path) -> None:
    """sshd -T (the real OpenSSH server) reads a configuration whose AuthorizedKeysFile has a
    %u pattern and an absolute path; the agent reads the files it names, not a guess."""
    if shutil.which("sshd") is None:
        missing("OpenSSH's sshd (Debian package openssh-server)")
    keys = tmp_path / "keys"
    keys.mkdir()
    admin, admin_print = keygen(keys, "ed25519", "alice@laptop")
    host_key = tmp_path / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    config = tmp_path / "sshd_config"
    config.write_text(f"HostKey {host_key}\nAuthorizedKeysFile .ssh/keys_%u /etc/ssh/authorized/%u\n")
    hygiene(sshd_config=str(config))
    assert agent._authorized_keys_files() == [".ssh/keys_%u", "/etc/ssh/authorized/%u"]  # type: ignore[no-untyped-call]
    (tree / "etc" / "passwd").write_text("alice:x:1000:1000::/home/alice:/bin/bash\n")
    (tree / "etc" / "ssh" / "authorized").mkdir(parents=True)
    (tree / "etc" / "ssh" / "authorized" / "alice").write_text(admin + "\n")
    output = printed(agent.linux_ssh_keys)
    assert f"alice\t/etc/ssh/authorized/alice\tssh-ed25519\t{admin_print}\talice@laptop".encode() in output
