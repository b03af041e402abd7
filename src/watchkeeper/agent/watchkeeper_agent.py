#!/usr/bin/env python3
"""watchkeeper-agent: print this host's state as sections in the Checkmk agent format.

One file, standard library only, Python 3.6 or newer: copy it to a host and run it over
SSH (or let `watchkeeper` pipe it to `python3 -`), from inetd/systemd socket activation,
or serve it with `--listen ADDRESS:PORT`. It only reads state; it never changes the host.

Collectors are grouped per operating system; a collector that fails is named in the
`FailedCollectors:` line of `<<<check_mk>>>` and the others still run.
"""

import fnmatch
import hashlib
import json
import os
import platform
import re
import socket
import stat
import subprocess
import sys
import time
from typing import Any  # noqa: F401 (read by type comments only: the agent runs on Python 3.6)

VERSION = "0.1.0"
COMMAND_TIMEOUT_S = 10
NETWORK_MOUNT_TIMEOUT_S = 5  # a network mount that takes longer to answer `stat -f` is hanging

# Filesystems that are not storage (or that may hang on a dead server): neither df nor mounts.
PSEUDO_FS = frozenset(
    "proc sysfs cgroup cgroup2 devpts mqueue debugfs tracefs securityfs pstore bpf autofs"
    " hugetlbfs configfs fusectl binfmt_misc rpc_pipefs nsfs efivarfs selinuxfs ramfs"
    " fuse.gvfsd-fuse fuse.portal squashfs iso9660 udf".split()
)
NETWORK_FS = frozenset(
    "nfs nfs4 cifs smbfs smb3 ceph fuse.sshfs fuse.mfs fuse.lizardfs glusterfs fuse.glusterfs"
    " 9p afs ncpfs lustre beegfs gpfs ocfs2".split()
)


def read(path):
    with open(path, "r", errors="replace") as handle:
        return handle.read()


def run(argv):
    """Run a helper command with a time limit; None when it is missing, fails or hangs."""
    try:
        done = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            timeout=COMMAND_TIMEOUT_S,
            universal_newlines=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def run_capture(argv, timeout_s=COMMAND_TIMEOUT_S, input_text=None):
    """(stdout, error): stdout even when the exit code is not 0; error says why it failed.
    `input_text`: written to the command's input (else it reads nothing)."""
    try:
        done = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **({"input": input_text} if input_text is not None else {"stdin": subprocess.DEVNULL}),
            timeout=timeout_s,
            universal_newlines=True,
            errors="replace",
        )
    except subprocess.TimeoutExpired:
        return "", "%s did not answer within %ss" % (argv[0], timeout_s)
    except OSError as exc:
        return "", "cannot run %s: %s" % (argv[0], exc.strerror or exc)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return done.stdout, "%s exited with %d: %s" % (argv[0], done.returncode, lines[-1] if lines else "")
    return done.stdout, None


def unescape_mount_field(field):
    """/proc/mounts writes space, tab, newline and backslash as octal escapes (\\040)."""
    return (
        field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
    )


# ---------------------------------------------------------------- Linux
def linux_check_mk(out):
    uname = platform.uname()
    pretty = ""
    try:
        for line in read("/etc/os-release").splitlines():
            if line.startswith("PRETTY_NAME="):
                pretty = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    out.append("<<<check_mk>>>")
    out.append("Version: %s" % VERSION)
    out.append("AgentOS: linux")
    out.append("Hostname: %s" % socket.gethostname())
    out.append("OSName: %s" % (pretty or uname.system))
    out.append("KernelRelease: %s" % uname.release)
    out.append("Architecture: %s" % uname.machine)


def linux_uptime(out):
    out.append("<<<uptime>>>")
    out.append(read("/proc/uptime").strip())


def linux_cpu(out):
    out.append("<<<cpu>>>")
    out.append("%s %d" % (read("/proc/loadavg").strip(), os.cpu_count() or 1))


def linux_kernel(out):
    out.append("<<<kernel>>>")
    out.append(str(int(time.time())))
    for line in read("/proc/stat").splitlines():
        if not line.startswith(("intr ", "softirq ")):  # hundreds of IRQ counters nobody checks here
            out.append(line)


def linux_mem(out):
    out.append("<<<mem>>>")
    out.append(read("/proc/meminfo").rstrip("\n"))


def _local_mounts():
    """(device, mountpoint, fstype, options) of local storage filesystems, first mount wins."""
    seen = set()
    for line in read("/proc/mounts").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        device, mountpoint, fstype, options = fields[:4]
        if fstype in PSEUDO_FS or fstype in NETWORK_FS or mountpoint in seen:
            continue
        seen.add(mountpoint)
        yield device, unescape_mount_field(mountpoint), fstype, options


def linux_df(out):
    space, inodes = [], []
    for device, mountpoint, fstype, _options in _local_mounts():
        try:
            st = os.statvfs(mountpoint)
        except OSError:
            continue
        size_kb = st.f_blocks * st.f_frsize // 1024
        used_kb = (st.f_blocks - st.f_bfree) * st.f_frsize // 1024
        avail_kb = st.f_bavail * st.f_frsize // 1024
        if size_kb == 0:
            continue
        percent = (100 * used_kb + (used_kb + avail_kb) - 1) // max(used_kb + avail_kb, 1)
        space.append("%s %s %d %d %d %d%% %s" % (device, fstype, size_kb, used_kb, avail_kb, percent, mountpoint))
        if st.f_files:
            iused = st.f_files - st.f_ffree
            ipercent = (100 * iused + st.f_files - 1) // st.f_files
            inodes.append(
                "%s %s %d %d %d %d%% %s" % (device, fstype, st.f_files, iused, st.f_ffree, ipercent, mountpoint)
            )
    out.append("<<<df>>>")
    out.extend(space)
    out.append("[df_inodes_start]")
    out.extend(inodes)
    out.append("[df_inodes_end]")


def linux_mounts(out):
    out.append("<<<mounts>>>")
    for line in read("/proc/mounts").splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] not in PSEUDO_FS:
            out.append(line)


def linux_diskstat(out):
    out.append("<<<diskstat>>>")
    out.append(str(int(time.time())))
    out.append(read("/proc/diskstats").rstrip("\n"))


def _sys_net(name, attribute):
    try:
        return read("/sys/class/net/%s/%s" % (name, attribute)).strip()
    except OSError:
        return ""


def linux_mdstat(out):
    if os.path.exists("/proc/mdstat"):
        out.append("<<<mdstat:sep(0)>>>")
        out.extend(line for line in read("/proc/mdstat").splitlines() if line.strip())


def linux_interfaces(out):
    lines = read("/proc/net/dev").splitlines()[2:]
    out.append("<<<lnx_if>>>")
    out.append("[start_iplink]")
    for line in lines:
        name = line.split(":", 1)[0].strip()
        flags_hex = _sys_net(name, "flags") or "0"
        up = int(flags_hex, 16) & 0x1
        operstate = (_sys_net(name, "operstate") or "unknown").upper()
        out.append(
            "%s: %s: <%s> mtu %s state %s"
            % (_sys_net(name, "ifindex") or "0", name, "UP" if up else "DOWN", _sys_net(name, "mtu") or "0",
               operstate)
        )
        out.append("    link/%s %s" % ("ether", _sys_net(name, "address") or "00:00:00:00:00:00"))
    out.append("[end_iplink]")
    out.append("<<<lnx_if:sep(58)>>>")
    out.extend(lines)
    for line in lines:
        name = line.split(":", 1)[0].strip()
        speed = _sys_net(name, "speed")
        out.append("[%s]" % name)
        if speed and _plain_number(speed) and int(speed) > 0:
            out.append("\tSpeed: %sMb/s" % speed)


LSBLK_COLUMNS = "NAME,KNAME,SIZE,SERIAL,WWN,MODEL,TYPE,MOUNTPOINT,FSTYPE,UUID,LABEL"


def _sys_block(name, *parts):
    try:
        return read(os.path.join("/sys/block", name, *parts)).strip() or None
    except OSError:
        return None


def _sys_block_devices():
    """lsblk's JSON shape from /sys, for hosts without util-linux's lsblk (disks only)."""
    devices = []
    for name in sorted(os.listdir("/sys/block")):
        sectors = _sys_block(name, "size")
        devices.append({
            "name": name,
            "kname": name,
            "size": int(sectors) * 512 if sectors and _plain_number(sectors) else None,
            "serial": _sys_block(name, "serial") or _sys_block(name, "device", "serial"),
            "wwn": _sys_block(name, "wwid") or _sys_block(name, "device", "wwid"),
            "model": _sys_block(name, "device", "model"),
            "type": "loop" if name.startswith("loop") else "disk",
            "mountpoint": None, "fstype": None, "uuid": None, "label": None,
        })
    return {"blockdevices": devices}


def linux_blockdevices(out):
    text = run(["lsblk", "--json", "--bytes", "--output", LSBLK_COLUMNS])
    if text is None:
        text = json.dumps(_sys_block_devices())
    out.append("<<<lsblk:sep(0)>>>")
    out.extend(line for line in text.splitlines() if line.strip())


def _user_names():
    names = {}  # type: dict[str, str]
    try:
        for line in read("/etc/passwd").splitlines():
            fields = line.split(":")
            if len(fields) > 2 and fields[2].isdigit():
                names.setdefault(fields[2], fields[0])
    except OSError:
        pass
    return names


def _clock(seconds):
    """`ps` style: [DD-]HH:MM:SS or MM:SS."""
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return "%d-%02d:%02d:%02d" % (days, hours, minutes, secs)
    return "%02d:%02d:%02d" % (hours, minutes, secs) if hours else "%02d:%02d" % (minutes, secs)


def linux_processes(out):
    """The process table in the Checkmk `ps_lnx` layout, read from /proc (no `ps` needed)."""
    users = _user_names()
    ticks = os.sysconf("SC_CLK_TCK") or 100
    uptime = float(read("/proc/uptime").split()[0])
    page_kib = (os.sysconf("SC_PAGE_SIZE") or 4096) // 1024
    out.append("<<<ps_lnx>>>")
    out.append("[header] CGROUP USER VSZ RSS TIME ELAPSED PID COMMAND")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = read("/proc/%s/stat" % entry)
            status = read("/proc/%s/status" % entry)
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                argv = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue  # the process ended while we looked
        name = stat[stat.find("(") + 1:stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) < 22:
            continue
        uid = next((line.split()[1] for line in status.splitlines() if line.startswith("Uid:")), "0")
        cpu_seconds = (int(fields[11]) + int(fields[12])) / ticks
        elapsed = uptime - int(fields[19]) / ticks
        command = argv or "[%s]" % name
        if fields[0] == "Z":
            command = "[%s] <defunct>" % name
        out.append("- %s %d %d %s %s %s %s" % (
            users.get(uid, uid), int(fields[20]) // 1024, int(fields[21]) * page_kib, _clock(cpu_seconds),
            _clock(elapsed), entry, command.replace("\n", " ")))


def linux_network_mounts(out):
    """NFS and CIFS mounts and whether they answer: `stat -f` in a child with a time limit, so a
    dead server costs this collector five seconds, not the whole agent."""
    nfs, cifs = [], []
    for line in read("/proc/mounts").splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] in ("nfs", "nfs4"):
            nfs.append((unescape_mount_field(fields[0]), unescape_mount_field(fields[1])))
        elif len(fields) >= 3 and fields[2] in ("cifs", "smb3", "smbfs"):
            cifs.append((unescape_mount_field(fields[0]), unescape_mount_field(fields[1])))
    if not nfs and not cifs:
        return
    out.append("<<<nfsmounts_v2:sep(0)>>>")
    for source, mountpoint in nfs:
        out.append(json.dumps(_statfs(source, mountpoint)))
    out.append("<<<cifsmounts>>>")
    for source, mountpoint in cifs:
        found = _statfs(source, mountpoint)
        usage = found["usage"]
        out.append("%s %s %d %d %d %d" % (mountpoint.replace("\n", " "), found["state"], usage["total_blocks"],
                                          usage["free_blocks_su"], usage["free_blocks"], usage["blocksize"]))


def _statfs(source, mountpoint):
    text, error = run_capture(["stat", "-f", "-c", "%b %f %a %S", mountpoint], timeout_s=NETWORK_MOUNT_TIMEOUT_S)
    numbers = text.split()
    usage = {"total_blocks": 0, "free_blocks_su": 0, "free_blocks": 0, "blocksize": 0}
    if error is None and len(numbers) == 4 and all(number.isdigit() for number in numbers):
        usage = dict(zip(("total_blocks", "free_blocks_su", "free_blocks", "blocksize"), map(int, numbers)))  # noqa: B905 - Python 3.6
        state = "ok"
    else:
        state = "Permission denied" if error and "ermission" in error else "hanging"
    return {"mountpoint": mountpoint, "source": source, "state": state, "usage": usage}


def linux_systemd(out):
    """Units and their state, where systemd runs (it is PID 1: /run/systemd/system exists)."""
    if not os.path.isdir("/run/systemd/system") or not _which("systemctl"):
        return
    text, error = run_capture(["systemctl", "--all", "--type", "service", "--type", "socket", "--full",
                               "--no-legend", "--no-pager", "--plain"])
    if error is not None and not text:
        raise RuntimeError(error)
    out.append("<<<systemd_units>>>")
    out.append("[all]")
    for line in text.splitlines():
        if not line.strip():
            break
        out.append(" ".join(line.split()))


def linux_tcp(out):
    """TCP sockets by state (the hex code of /proc/net/tcp), as Checkmk's tcp_conn_stats."""
    counts = {}  # type: dict[str, int]
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = read(path).splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3:
                counts[fields[3]] = counts.get(fields[3], 0) + 1
    out.append("<<<tcp_conn_stats>>>")
    out.extend("%s %d" % (state, count) for state, count in sorted(counts.items()))


# ---------------------------------------------------------------- host hygiene (Linux)
# What periodic mails used to say: pending updates, a reboot or restart still needed,
# configuration left unmerged by a package upgrade, SSH keys. Expensive collectors are cached
# in the agent's state directory (0700, files 0600) with a maximum age and the boot they were
# made in, and print `cached(TIME,MAXAGE)` in their header. Their commands get at most 20 s,
# so that even a cache miss stays inside the server's 30 s fetch limit. Paths are read below
# CONFIG["hygiene"]["root"] ("/" by default), which tests point at a tree of their own.
APT_MAX_AGE_S = 3600
NEEDRESTART_MAX_AGE_S = 300
UNMERGED_MAX_AGE_S = 600
UNMERGED_MAX_FILES = 20000
UNMERGED_MAX_BYTES = 1 << 20  # read of each file; a longer one is read to here
UNMERGED_MAX_SECONDS = 10
LEFTOVER_SUFFIXES = (".dpkg-dist", ".dpkg-new", ".dpkg-old", ".ucf-dist", ".ucf-old", ".rpmnew", ".rpmsave")
SSH_KEY_TYPES = ("ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                 "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
SSH_MAX_KEYS = 2000


def _hygiene():
    return _config("hygiene") or {}


def _under_root(path):
    root = str(_hygiene().get("root") or "/")
    return os.path.join(root, path.lstrip("/")) if root != "/" else path


def _state_dir():
    configured = CONFIG.get("state_dir") or os.environ.get("WATCHKEEPER_AGENT_STATE_DIR")
    if isinstance(configured, str) and configured:
        return configured
    if os.geteuid() == 0:
        return "/var/lib/watchkeeper-agent"
    return os.path.join(os.path.expanduser("~"), ".cache", "watchkeeper-agent")


def _boot_id():
    try:
        return read("/proc/sys/kernel/random/boot_id").strip()
    except OSError:
        return ""


def _cached(name, max_age_s, produce):
    """(made at, lines): from the cache while younger than max_age_s and made in this boot,
    else produce() now and keep it. A failing produce() raises: the collector is named."""
    path = os.path.join(_state_dir(), "cache", name + ".json")
    now = time.time()
    try:
        with open(path) as handle:
            kept = json.load(handle)
        if (isinstance(kept, dict) and kept.get("boot") == _boot_id() and isinstance(kept.get("lines"), list)
                and 0 <= now - float(kept.get("at", 0)) < max_age_s):
            return float(kept["at"]), [str(line) for line in kept["lines"]]
    except (OSError, ValueError, TypeError):
        pass  # no cache yet, or a broken one: made again
    lines = produce()
    _keep(path, {"at": now, "boot": _boot_id(), "lines": lines})
    return now, lines


def _keep(path, data):
    """Write data as JSON to path (0600, in a 0700 directory), whole or not at all."""
    directory = os.path.dirname(path)
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        temporary = path + ".tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(data, handle)
        os.rename(temporary, path)
    except OSError:
        pass  # a read-only state directory costs only the cache


def _apt_lines():
    options = _hygiene().get("apt_options") or []
    text, error = run_capture(["apt-get", "-o", "Debug::NoLocking=true", "-o",
                               "APT::Get::Show-User-Simulation-Note=false"] + [str(o) for o in options]
                              + ["-s", "-qq", "dist-upgrade"], timeout_s=20)
    if error is not None:
        raise RuntimeError(error)
    lines = [line for line in text.splitlines() if line.startswith(("Inst ", "Remv "))]
    if not lines:
        lines = ["No updates pending for installation"]
    lists = _under_root(str(_hygiene().get("apt_lists") or "/var/lib/apt/lists"))
    newest = 0.0
    try:
        for entry in os.listdir(lists):
            if entry not in ("partial", "lock", "auxfiles"):
                newest = max(newest, os.stat(os.path.join(lists, entry)).st_mtime)
    except OSError:
        pass
    if newest:
        lines.append("ListsUpdated: %d" % newest)
    return lines


def linux_apt(out):
    """Pending updates as apt would install them (a dry run of dist-upgrade), once an hour."""
    if not _which("apt-get"):
        return
    made, lines = _cached("apt", APT_MAX_AGE_S, _apt_lines)
    out.append("<<<apt:sep(0):cached(%d,%d)>>>" % (made, APT_MAX_AGE_S))
    out.extend(lines)


def _dnf_lines():
    tool = "dnf" if _which("dnf") else "yum"
    text, error = run_capture([tool, "-q", "check-update"], timeout_s=20)
    if error is not None and " exited with 100" not in error:  # 100: updates are available
        raise RuntimeError(error)
    lines = ["[check-update]"] + [line for line in text.splitlines() if line.strip()]
    security = [tool, "-q", "updateinfo", "list"] + (["--security"] if tool == "dnf" else ["security"])
    text, error = run_capture(security, timeout_s=20)
    lines.append("[security]")
    lines.extend(line for line in text.splitlines() if line.strip())
    if error is not None and not text.strip():
        lines.append("error: %s" % error)
    return lines


def linux_dnf(out):
    """Pending updates on RPM hosts (where there is no apt), from dnf or yum, once an hour."""
    if _which("apt-get") or not (_which("dnf") or _which("yum")):
        return
    made, lines = _cached("dnf", APT_MAX_AGE_S, _dnf_lines)
    out.append("<<<dnf:sep(0):cached(%d,%d)>>>" % (made, APT_MAX_AGE_S))
    out.extend(lines)


def _kernel_key(release):
    parts = []
    for piece in release.replace("-", ".").split("."):
        parts.append((0, int(piece), "") if _plain_number(piece) else (1, 0, piece))
    return parts


def _needrestart_lines():
    text, error = run_capture(["needrestart", "-r", "l", "-b"], timeout_s=20)
    lines = [line for line in text.splitlines() if line.startswith("NEEDRESTART-")]
    if error is not None and not lines:
        lines.append("needrestart_error %s" % error)
    return lines


def linux_reboot_needed(out):
    """Whether the host still runs what was replaced: the package system's reboot flag, the
    running kernel against the newest installed one, and needrestart's verdict where installed."""
    out.append("<<<reboot_needed:sep(0)>>>")
    flag = _under_root("/run/reboot-required")
    out.append("flag %s" % ("yes" if os.path.exists(flag) else "no"))
    try:
        packages = read(flag + ".pkgs").split()
    except OSError:
        packages = []
    if packages:
        out.append("flag_packages %s" % " ".join(sorted(set(packages))))
    out.append("kernel_running %s" % platform.release())
    installed = []
    try:
        for entry in os.listdir(_under_root("/boot")):
            if entry.startswith("vmlinuz-"):
                installed.append(entry[len("vmlinuz-"):])
    except OSError:
        pass
    if installed:
        out.append("kernel_installed %s" % " ".join(sorted(installed, key=_kernel_key)))
    if _which("needrestart"):
        made, lines = _cached("needrestart", NEEDRESTART_MAX_AGE_S, _needrestart_lines)
        out.append("needrestart_at %d" % made)
        out.extend(lines)


def _has_conflict_marker(path, budget):
    """The line number of the first `<<<<<<<` or `>>>>>>>` line, 0 for none; binary files are skipped."""
    with open(path, "rb") as handle:
        data = handle.read(min(UNMERGED_MAX_BYTES, budget[0]))
    budget[0] -= len(data)
    if b"\0" in data[:8192]:
        return 0
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.startswith((b"<<<<<<<", b">>>>>>>")):
            return number
    return 0


def _unmerged_lines():
    top = _under_root(str(_hygiene().get("config_dir") or "/etc"))
    deadline = time.monotonic() + UNMERGED_MAX_SECONDS
    budget = [int(_hygiene().get("config_max_bytes") or 64 << 20)]
    files, lines, cut, unreadable = 0, [], "", 0
    for directory, subdirectories, names in os.walk(top):
        subdirectories.sort()
        for name in sorted(names):
            path = os.path.join(directory, name)
            files += 1
            if files > UNMERGED_MAX_FILES or budget[0] <= 0 or time.monotonic() > deadline:
                cut = "files" if files > UNMERGED_MAX_FILES else "bytes" if budget[0] <= 0 else "time"
                break
            shown = "/" + os.path.relpath(path, _under_root("/")) if _under_root("/") != "/" else path
            try:
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                if name.endswith(LEFTOVER_SUFFIXES):
                    original = path[:path.rindex(".")]
                    own = os.stat(path).st_mtime
                    shadowed = os.stat(original).st_mtime if os.path.exists(original) else None
                    if shadowed is None or own > shadowed:
                        lines.append("leftover\t%s\t%d\t%s" % (shown.translate(TAB_FREE), own,
                                                               "-" if shadowed is None else "%d" % shadowed))
                    continue
                line = _has_conflict_marker(path, budget)
                if line:
                    lines.append("marker\t%s\t%d" % (shown.translate(TAB_FREE), line))
            except OSError:
                unreadable += 1  # not for us (an agent not run as root), or gone meanwhile: counted
                continue
        if cut:
            break
    lines.append("scanned\t%d\t%s\t%d" % (min(files, UNMERGED_MAX_FILES), cut or "-", unreadable))
    return lines


def linux_unmerged_config(out):
    """Conflict markers left in /etc, and package leftovers newer than the file they shadow."""
    made, lines = _cached("unmerged", UNMERGED_MAX_AGE_S, _unmerged_lines)
    out.append("<<<config_unmerged:sep(9):cached(%d,%d)>>>" % (made, UNMERGED_MAX_AGE_S))
    out.extend(lines)


def _authorized_keys_files():
    """sshd's AuthorizedKeysFile patterns: asked from sshd itself (`sshd -T`), else its default."""
    patterns = [str(p) for p in (_hygiene().get("authorized_keys_files") or [])]
    if not patterns and _which("sshd"):
        config = _hygiene().get("sshd_config")
        text = run(["sshd", "-T", "-C", "user=root,host=localhost,addr=127.0.0.1"]
                   + (["-f", str(config)] if config else [])) or ""
        for line in text.splitlines():
            if line.lower().startswith("authorizedkeysfile "):
                patterns = line.split()[1:]
    return patterns or [".ssh/authorized_keys", ".ssh/authorized_keys2"]


def _ssh_key(line):
    """(type, SHA256 fingerprint, comment, has options) of one authorized_keys line, or None."""
    import base64
    import hashlib

    fields = line.split()
    for position, field in enumerate(fields):
        if field in SSH_KEY_TYPES and position + 1 < len(fields):
            try:
                blob = base64.b64decode(fields[position + 1], validate=True)
            except ValueError:
                return None
            digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
            return field, "SHA256:" + digest, " ".join(fields[position + 2:]), position > 0
    return None


def linux_ssh_keys(out):
    """The public keys that may log in, per user: type, fingerprint, comment. Never a key itself."""
    users = _hygiene().get("ssh_users")
    patterns = _authorized_keys_files()
    rows, seen = [], set()
    try:
        passwd = read(_under_root("/etc/passwd")).splitlines()
    except OSError:
        return
    for entry in passwd:
        fields = entry.split(":")
        if len(fields) < 7 or (isinstance(users, list) and fields[0] not in users):
            continue
        user, home = fields[0], fields[5]
        for pattern in patterns:
            if pattern.lower() == "none":
                continue
            path = pattern.replace("%h", home).replace("%u", user).replace("%%", "%")
            if not path.startswith("/"):
                path = os.path.join(home, path)
            if (user, path) in seen:
                continue
            seen.add((user, path))
            try:
                text = read(_under_root(path))
            except FileNotFoundError:
                continue
            except OSError:  # there, but not for us (an agent not run as root): said, not skipped
                rows.append("%s\t%s\tnoaccess\t-\t-\t-" % (user, path))
                continue
            for line in text.splitlines()[:SSH_MAX_KEYS]:
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                key = _ssh_key(line)
                if key is None:
                    rows.append("%s\t%s\tunreadable\t-\t-\t-" % (user, path))
                    continue
                rows.append("%s\t%s\t%s\t%s\t%s\t%s" % (user, path, key[0], key[1], key[2].translate(TAB_FREE),
                                                        "options" if key[3] else "-"))
    out.append("<<<ssh_authorized_keys:sep(9)>>>")
    out.extend(rows)


# Mail queues: postfix (`postqueue -p`) and exim (`exim -bp`, with the deferral reason of the
# oldest messages from their message logs). The agent sends a summary, however long the queue:
#   queue	MTA	NAME	COUNT	OLDEST_EPOCH	BYTES     (NAME: active, deferred, hold, queued, frozen)
#   total	MTA	COUNT	BYTES
#   reason	MTA	COUNT	TEXT
#   error	MTA	TEXT
MAIL_REASONS_SHOWN = 5
EXIM_MSGLOGS_READ = 10
MONTHS = {name: number for number, name in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
SIZE_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}


def _mail_settings():
    return _config("mail") or {}


def _postfix_arrival(text, now):
    """`Wed Jun 26 13:39:27` (no year: this year, or last year when that is in the future)."""
    parts = text.split()
    try:
        month, day = MONTHS[parts[1]], int(parts[2])
        hour, minute, second = (int(piece) for piece in parts[3].split(":"))
        year = time.localtime(now).tm_year
        stamp = time.mktime((year, month, day, hour, minute, second, 0, 0, -1))
        if stamp > now + 86400:
            stamp = time.mktime((year - 1, month, day, hour, minute, second, 0, 0, -1))
        return stamp
    except (KeyError, ValueError, IndexError, OverflowError):
        return None


def postfix_queue_summary(text, now):
    """The summary lines of `postqueue -p` output (a pure function: tested on real output)."""
    queues = {}  # type: dict[str, tuple[int, float | None, int]]
    reasons = {}  # type: dict[str, int]
    total = None
    current = None
    for line in text.splitlines():
        if line.startswith("-- ") and " in " in line:
            fields = line.split()
            if len(fields) >= 5 and fields[1].isdigit() and fields[4].isdigit():
                total = (int(fields[4]), int(fields[1]) * 1024)
            continue
        if line.startswith("Mail queue is empty"):
            total = (0, 0)
            continue
        fields = line.split()
        if len(fields) >= 6 and line[:1].isalnum() and fields[1].isdigit():
            queue_id = fields[0]
            name = "active" if queue_id.endswith("*") else "hold" if queue_id.endswith("!") else "deferred"
            arrival = _postfix_arrival(" ".join(fields[2:6]), now)
            count, oldest, size = queues.get(name, (0, None, 0))
            if arrival is not None and (oldest is None or arrival < oldest):
                oldest = arrival
            queues[name] = (count + 1, oldest, size + int(fields[1]))
            current = name
        elif current == "deferred" and line.strip().startswith("(") and line.strip().endswith(")"):
            reason = line.strip()[1:-1].strip()
            reasons[reason] = reasons.get(reason, 0) + 1
    return _queue_lines("postfix", queues, reasons, total)


def _queue_lines(mta, queues, reasons, total):
    lines = []
    for name in sorted(queues):
        count, oldest, size = queues[name]
        lines.append("queue\t%s\t%s\t%d\t%s\t%d" % (mta, name, count, "-" if oldest is None else "%d" % oldest, size))
    if total is not None:
        lines.append("total\t%s\t%d\t%d" % (mta, total[0], total[1]))
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:MAIL_REASONS_SHOWN]
    lines.extend("reason\t%s\t%d\t%s" % (mta, count, reason.translate(TAB_FREE)[:300]) for reason, count in ranked)
    return lines


def exim_queue_summary(text, now, msglog=None):
    """The summary lines of `exim -bp` output; msglog(id) gives a message's log for its reason."""
    queues = {}  # type: dict[str, tuple[int, float | None, int]]
    ids = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3 or line[:1] not in " 0123456789" or not fields[0][:-1].isdigit():
            continue
        unit, size_text = fields[0][-1], fields[1]
        if unit not in AGE_UNITS:
            continue
        scale = SIZE_UNITS.get(size_text[-1:], None) if not size_text[-1:].isdigit() else 1
        try:
            size = int(float(size_text.rstrip("KMG")) * (scale or 1))
        except ValueError:
            size = 0
        arrival = now - int(fields[0][:-1]) * AGE_UNITS[unit]
        name = "frozen" if "*** frozen ***" in line else "queued"
        count, oldest, total_size = queues.get(name, (0, None, 0))
        queues[name] = (count + 1, arrival if oldest is None else min(oldest, arrival), total_size + size)
        ids.append((arrival, fields[2]))
    reasons = {}  # type: dict[str, int]
    for _arrival, message_id in sorted(ids)[:EXIM_MSGLOGS_READ if msglog else 0]:
        deferred = [line for line in (msglog(message_id) or "").splitlines() if " defer (" in line]
        if deferred:
            reason = deferred[-1][deferred[-1].index(" defer (") + 1:]
            reasons[reason] = reasons.get(reason, 0) + 1
    total = (sum(count for count, _o, _s in queues.values()), sum(size for _c, _o, size in queues.values()))
    return _queue_lines("exim", queues, reasons, total)


def linux_mail_queue(out):
    """The local MTA's queue: how many messages wait, since when, and why."""
    settings = _mail_settings()
    lines = []  # type: list[str]
    postfix = settings.get("postqueue") or (["postqueue"] if _which("postqueue") else None)
    exim = settings.get("exim") or (["exim4"] if _which("exim4") else ["exim"] if _which("exim") else None)
    if postfix:
        text, error = run_capture([str(part) for part in postfix] + ["-p"], timeout_s=15)
        lines.extend(postfix_queue_summary(text, time.time()) if error is None else ["error\tpostfix\t%s" % error])
    elif exim:
        command = [str(part) for part in exim]
        text, error = run_capture(command + ["-bp"], timeout_s=15)
        if error is None:
            lines.extend(exim_queue_summary(text, time.time(),
                                            lambda message_id: run_capture(command + ["-Mvl", message_id])[0]))
        else:
            lines.append("error\texim\t%s" % error)
    if lines:
        out.append("<<<mail_queue:sep(9)>>>")
        out.extend(lines)


def linux_timesync(out):
    """Whichever daemon keeps the clock, in the sections Checkmk's agent uses: chrony
    (`chronyc -n tracking`), ntpd (`ntpq -np`, the tally code split off, `%` for none) or
    systemd-timesyncd (`timedatectl timesync-status` and when it last synchronised)."""
    if _which("chronyc"):
        text, error = run_capture(["chronyc", "-n", "tracking"])
        out.append("<<<chrony>>>")
        out.extend(line for line in text.splitlines() if line.strip())
        if error is not None and not text.strip():
            out.append("watchkeeper-error: %s" % error)
    elif _which("ntpq"):
        text, error = run_capture(["ntpq", "-np"])
        if error is not None and not text.strip():
            raise RuntimeError(error)
        out.append("<<<ntp>>>")
        for line in text.splitlines():
            if not line.strip() or line.lstrip().startswith(("remote", "=")):
                continue
            tally = line[0] if line[0] != " " else "%"
            out.append("%s %s" % (tally, line[1:].strip()))
    elif _which("timedatectl") and os.path.isdir("/run/systemd/timesync"):
        text, error = run_capture(["timedatectl", "timesync-status"])
        if error is not None and not text.strip():
            raise RuntimeError(error)
        out.append("<<<timesyncd>>>")
        out.extend(line for line in text.splitlines() if line.strip())
        try:
            out.append("[[[%d]]]" % os.stat("/run/systemd/timesync/synchronized").st_mtime)
        except OSError:
            pass  # never synchronised since boot: the check says so


IPMI_DEVICES = ("/dev/ipmi0", "/dev/ipmi/0", "/dev/ipmidev/0")
IPMI_MAX_AGE_S = 120


def _ipmi_lines():
    text, error = run_capture(["ipmitool", "sdr"], timeout_s=20)
    if error is not None and not text.strip():
        raise RuntimeError(error)
    return [line for line in text.splitlines() if line.count("|") >= 2]


def linux_sensors(out):
    """lm-sensors' readings (`sensors`), and the BMC's (`ipmitool sdr`, every 2 minutes from a
    cache: a slow BMC takes seconds) where a BMC device exists."""
    lines = []
    if _which("sensors"):
        text, error = run_capture(["sensors"])
        if text.strip():
            lines.append("[lm-sensors]")
            lines.extend(line for line in text.splitlines() if line.strip())
    if _which("ipmitool") and any(os.path.exists(_under_root(device)) for device in IPMI_DEVICES):
        _made, ipmi = _cached("ipmi", IPMI_MAX_AGE_S, _ipmi_lines)
        lines.append("[ipmi]")
        lines.extend(ipmi)
    if lines:
        out.append("<<<sensors:sep(0)>>>")
        out.extend(lines)


HYGIENE = [linux_apt, linux_dnf, linux_reboot_needed, linux_unmerged_config, linux_ssh_keys, linux_mail_queue,
           linux_timesync, linux_sensors]

LINUX = [
    linux_check_mk, linux_uptime, linux_cpu, linux_kernel, linux_mem, linux_df, linux_mounts,
    linux_diskstat, linux_interfaces, linux_blockdevices, linux_mdstat, linux_processes, linux_network_mounts,
    linux_systemd, linux_tcp,
] + HYGIENE

# ---------------------------------------------------------------- distributed storage (any OS)
# Configured in the agent's JSON file (--config FILE, $WATCHKEEPER_AGENT_CONFIG or
# /etc/watchkeeper/agent.json), e.g.
#   {"moosefs": {"master": "mfsmaster:9421", "command_prefix": ["nsenter", "--net=/run/netns/x", "--"],
#                "paths": ["/mnt/mfs/vm-images"], "max_files": 10000, "max_seconds": 20}}
# Without a "moosefs" entry the section is printed only where a MooseFS master runs.
CONFIG = {}  # type: dict[str, object]
TAB_FREE = str.maketrans("\t\n", "  ")


def _config(name):
    value = CONFIG.get(name)
    return value if isinstance(value, dict) else None


def _local_master_config():
    """Config file of an mfsmaster running in this network namespace, "" for the default; None if none runs."""
    try:
        own = os.readlink("/proc/self/ns/net")
        pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            if read("/proc/%s/comm" % pid).strip() != "mfsmaster" or os.readlink("/proc/%s/ns/net" % pid) != own:
                continue  # a master in another namespace (a container, a test lab) is not ours to ask
            argv = read("/proc/%s/cmdline" % pid).split("\0")
        except OSError:
            continue
        return argv[argv.index("-c") + 1] if "-c" in argv[:-1] else ""
    return None


def _mfs_master_port(config):
    try:
        for line in read(config or "/etc/mfs/mfsmaster.cfg").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "MATOCL_LISTEN_PORT" and value.strip().isdigit():
                return value.strip()
    except OSError:
        pass
    return "9421"


def _local_master_product():
    """"lizardfs" where LizardFS's admin tool is here and MooseFS's is not: both masters are `mfsmaster`."""
    return "lizardfs" if _which("lizardfs-admin") and not _which("mfscli") else "moosefs"


def _chunkfs_settings(product):
    """(settings, host, port, command prefix, timeout) for "moosefs" or "lizardfs": its agent
    configuration entry, else the master running here; None where neither is."""
    settings = _config(product)
    if settings is None:
        config = _local_master_config()
        if config is None or _local_master_product() != product:
            return None
        settings = {"master": "127.0.0.1:%s" % _mfs_master_port(config)}
    host, _, port = str(settings.get("master") or "mfsmaster:9421").rpartition(":")
    prefix = [str(part) for part in settings.get("command_prefix") or []]
    timeout_s = float(settings.get("timeout_s") or COMMAND_TIMEOUT_S)
    return settings, host or "mfsmaster", port, prefix, timeout_s


def storage_moosefs(out):
    found = _chunkfs_settings("moosefs")
    if found is None:
        return
    settings, host, port, prefix, timeout_s = found
    mfscli = prefix + [str(settings.get("mfscli") or "mfscli"), "-H", host, "-P", port]
    out.append("<<<moosefs:sep(9)>>>")
    out.append("watchkeeper:\tmaster\t%s:%s" % (host, port))
    started = time.time()
    # two calls: mfscli costs a Python start-up each, and -m1 switches every matrix to "regular"
    for args in (["-SIN,CS,HD,IL,MO"], ["-m1", "-SIC"]):
        text, error = run_capture(mfscli + args, timeout_s)
        if error is None and args[0].startswith("-SIN") and "master info:" not in text:
            first = [line for line in text.splitlines() if line.strip()][:1]
            error = "no master info from %s:%s: %s" % (host, port, first[0] if first else "empty output")
        if error is not None:
            out.append("watchkeeper:\terror\t%s" % error.translate(TAB_FREE))
            break
        out.extend(line for line in text.splitlines() if line.strip())
    out.append("watchkeeper:\tseconds\t%.3f" % (time.time() - started))


# the tools that tell a file's goal, its chunks by copies, and each chunk's copies: MooseFS's and LizardFS's
MFS_FILE_TOOLS = (["mfsgetgoal"], ["mfscheckfile"], ["mfsfileinfo"])
LIZARDFS_FILE_TOOLS = (["lizardfs", "getgoal"], ["lizardfs", "checkfile"], ["lizardfs", "fileinfo"])
LOST_CHUNKS_NAMED = 10  # files whose lost chunks are named, 20 chunks each


def _plain_number(text):
    """ASCII digits only: `str.isdigit` also takes "²", which `int` refuses."""
    return 0 < len(text) < 20 and all("0" <= char <= "9" for char in text)


def _lost_chunks(command, path, timeout_s):
    """Indexes of a file's chunks with no valid copy, from fileinfo's "chunk 118: ..." lines
    followed by "no valid copies !!!"."""
    text, _error = run_capture(command + [path], timeout_s)
    lost = []  # type: list[int]
    chunk = None
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "chunk" and _plain_number(words[1].rstrip(":")):
            chunk = int(words[1].rstrip(":"))
        elif chunk is not None and line.strip().startswith("no valid copies") and len(lost) < 20:
            lost.append(chunk)
    return lost


def _mfs_goals(command, files, timeout_s):
    """{file: goal}: a number, or a LizardFS goal's name (`ec21`, `xor3`)."""
    text, _error = run_capture(command + files, timeout_s)
    goals = {}  # type: dict[str, object]
    for line in text.splitlines():
        path, _, goal = line.rpartition(": ")
        goal = goal.strip()
        if _plain_number(goal):
            goals[path] = int(goal)
        elif path and goal and " " not in goal:
            goals[path] = goal
    return goals


def _mfs_copies(command, files, timeout_s):
    """{file: {copies: chunks}} from mfscheckfile; a file with no chunks has an empty dict."""
    text, _error = run_capture(command + files, timeout_s)
    wanted = set(files)
    copies = {}  # type: dict[str, dict[str, int]]
    current = None
    for line in text.splitlines():
        if line.endswith(":") and line[:-1] in wanted:
            current = copies.setdefault(line[:-1], {})
        elif current is not None and line.startswith(" chunks with "):
            words = line.replace(":", " ").split()
            # " chunks with 2 copies:            1" / " chunks with 0 copies: ..." / "... 1 copy: 571"
            if len(words) >= 5 and words[2].isdigit() and words[-1].isdigit():
                current[words[2]] = current.get(words[2], 0) + int(words[-1])
    return copies


def _check_mfs_path(root, prefix, max_files, max_seconds, batch=200, tools=MFS_FILE_TOOLS, product="MooseFS"):
    """Every file below `root` against its goal. A named goal (LizardFS's `ec21`) has no copy
    count to compare with: its files are judged only for chunks with no copy at all."""
    started = time.time()
    report = {"path": root, "files": 0, "checked": 0, "complete": True, "under_goal": 0,
              "zero_copies": 0, "examples": [], "errors": [], "product": product}
    if not os.path.isdir(root):
        report["errors"].append("not a directory (is the %s mount there?)" % product)
        return report
    files = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                files.append(path)
        if len(files) >= max_files or time.time() - started > max_seconds / 2:
            report["complete"] = False
            break
    files = files[:max_files]
    report["files"] = len(files)
    for index in range(0, len(files), batch):
        left = max_seconds - (time.time() - started)
        if left <= 0:
            report["complete"] = False
            break
        chunk = files[index:index + batch]
        goals = _mfs_goals(prefix + tools[0], chunk, max(left, 1.0))
        copies = _mfs_copies(prefix + tools[1], chunk, max(left, 1.0))
        for path in chunk:
            if path not in goals or path not in copies:
                if len(report["errors"]) < 20:
                    report["errors"].append("%s: no goal or copies from the %s tools" % (path, product))
                continue
            report["checked"] += 1
            goal, by_copies = goals[path], copies[path]
            wanted = goal if isinstance(goal, int) else 1
            lowest = min((int(count) for count in by_copies), default=wanted)
            if lowest >= wanted:
                continue
            report["under_goal"] += 1
            if lowest == 0:
                report["zero_copies"] += 1
            if len(report["examples"]) < 50 or lowest == 0 and len(report["examples"]) < 100:
                example = {"file": os.path.relpath(path, root), "goal": goal, "copies": by_copies}
                if lowest == 0 and report["zero_copies"] <= LOST_CHUNKS_NAMED:
                    example["lost_chunks"] = _lost_chunks(prefix + tools[2], path, max(left, 1.0))
                report["examples"].append(example)
    report["seconds"] = round(time.time() - started, 3)
    return report


def _chunkfs_files(out, product, tools):
    settings = _config(product.lower()) or {}
    paths = settings.get("paths") or []
    if not paths:
        return
    prefix = [str(part) for part in settings.get("command_prefix") or []]
    max_files = int(settings.get("max_files") or 10000)
    max_seconds = float(settings.get("max_seconds") or 20)
    out.append("<<<%s_files:sep(0)>>>" % product.lower())
    for path in paths:
        out.append(json.dumps(_check_mfs_path(str(path), prefix, max_files, max_seconds / len(paths),
                                              tools=tools, product=product)))


def storage_moosefs_files(out):
    _chunkfs_files(out, "MooseFS", MFS_FILE_TOOLS)


# LizardFS: {"lizardfs": {"master": "mfsmaster:9421", "lizardfs_admin": "lizardfs-admin",
# "paths": [...], ...}} as for MooseFS; without an entry, where a master runs and only
# LizardFS's tools are installed. Each command's output under a `[command]` line.
LIZARDFS_COMMANDS = ("info", "metadataserver-status", "list-goals", "chunks-health", "list-chunkservers",
                     "list-disks")


def storage_lizardfs(out):
    found = _chunkfs_settings("lizardfs")
    if found is None:
        return
    settings, host, port, prefix, timeout_s = found
    admin = prefix + [str(settings.get("lizardfs_admin") or "lizardfs-admin")]
    out.append("<<<lizardfs:sep(0)>>>")
    out.append("watchkeeper: master %s:%s" % (host, port))
    started = time.time()
    for command in LIZARDFS_COMMANDS:
        text, error = run_capture(admin + [command, "--porcelain", host, port], timeout_s)
        if error is not None:
            out.append("watchkeeper: error %s: %s" % (command, error.translate(TAB_FREE)))
            if command == "info":
                break  # the master does not answer: the other commands would wait as long
            continue
        out.append("[%s]" % command)
        out.extend(line for line in text.splitlines() if line.strip())
    out.append("watchkeeper: seconds %.3f" % (time.time() - started))


def storage_lizardfs_files(out):
    _chunkfs_files(out, "LizardFS", LIZARDFS_FILE_TOOLS)


def _ceph_settings():
    settings = _config("ceph")
    if settings is None:
        if not (os.path.exists("/etc/ceph/ceph.conf") and _which("ceph")):
            return None
        settings = {}
    prefix = [str(part) for part in settings.get("command_prefix") or []]
    command = prefix + [str(settings.get("ceph") or "ceph")] + [str(arg) for arg in settings.get("args") or []]
    return command, float(settings.get("timeout_s") or COMMAND_TIMEOUT_S)


def _which(name):
    for folder in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep):
        if os.access(os.path.join(folder, name), os.X_OK):
            return True
    return False


def storage_ceph(out):
    found = _ceph_settings()
    if found is None:
        return
    command, timeout_s = found
    # ceph's own limit on reaching a monitor, inside ours: without quorum it says so and exits,
    # instead of being killed at our limit with nothing said
    connect = ["--connect-timeout", "%d" % max(1, int(timeout_s) - 2)]
    # once a call found no monitor, the others would wait as long for nothing
    unreachable = []  # type: list[str]

    def ask(args, keep=None):
        if unreachable:
            return None, unreachable[0]
        text, error = run_capture(command + connect + args + ["--format", "json"], timeout_s)
        if error is None:
            try:
                data = json.loads(text)
                if keep is not None:
                    data = dict((key, data.get(key)) for key in keep)
                return data, None
            except (ValueError, AttributeError):
                return None, "ceph %s printed no JSON" % " ".join(args)
        if "timed out" in error or "did not answer" in error:
            unreachable.append(error)
        return None, error

    if _ceph_from_metrics(out, ask, command, timeout_s):
        return
    for section, calls in (("ceph_status", [(["status"], None)]), ("ceph_df", [(["df", "detail"], None)]),
                           ("ceph_osd_df", [(["osd", "df", "tree"], None), (["osd", "dump"], CEPH_RATIOS)])):
        out.append("<<<%s:sep(0)>>>" % section)
        for args, keep in calls:
            data, error = ask(args, keep)
            if error is None:
                out.append(json.dumps(data))  # one line, whatever the ceph version's layout
            else:
                out.append("watchkeeper-error: %s" % error.replace("\n", " "))


# each OSD's fill, state and host come with the cluster's fill ratios; of `osd dump` (the whole
# OSD and pool map, megabytes on a large cluster) only the three ratios are sent
CEPH_RATIOS = ("full_ratio", "backfillfull_ratio", "nearfull_ratio")
# Ceph's mgr `prometheus` module, where enabled, says whether all is well for about a
# twenty-fifth of the CPU of the four `ceph` calls (each starts a Python interpreter and a
# cluster session; bench/ceph_collect.py).
# Only the metrics the checks read are passed on, a section each (the scrape of a large cluster
# is megabytes of per-daemon performance counters).
CEPH_METRICS = (
    ("ceph_status_metrics", ("ceph_health_status", "ceph_health_detail", "ceph_mon_metadata",
                             "ceph_mon_quorum_status", "ceph_mgr_status", "ceph_osd_up", "ceph_osd_in",
                             "ceph_num_objects_degraded", "ceph_num_objects_misplaced", "ceph_num_objects_unfound",
                             "ceph_pool_recovering_objects_per_sec", "ceph_pool_recovering_bytes_per_sec",
                             "ceph_cluster_total_bytes", "ceph_cluster_total_used_bytes",
                             "ceph_daemon_health_metrics")),
    ("ceph_df_metrics", ("ceph_pool_metadata", "ceph_pool_stored", "ceph_pool_bytes_used", "ceph_pool_max_avail",
                         "ceph_pool_percent_used", "ceph_pool_objects", "ceph_pool_quota_bytes",
                         "ceph_pool_quota_objects")),
    ("ceph_osd_df_metrics", ("ceph_osd_metadata", "ceph_osd_stat_bytes", "ceph_osd_stat_bytes_used",
                             "ceph_osd_numpg")),
)
CEPH_SETUP_MAX_AGE_S = 3600
CEPH_NO_MODULE_MAX_AGE_S = 600
CEPH_METRICS_MAX_BYTES = 256 << 20


def _ceph_setup(ask):
    """[the mgr module's address or "", the fill ratios as JSON]: asked of the cluster once an hour."""
    services, error = ask(["mgr", "services"])
    if error is not None:
        raise RuntimeError(error)
    url = services.get("prometheus") if isinstance(services, dict) else None
    ratios, error = ask(["osd", "dump"], CEPH_RATIOS)
    if error is not None:
        raise RuntimeError(error)
    return [url if isinstance(url, str) else "", json.dumps(ratios)]


def _ceph_from_metrics(out, ask, command, timeout_s):
    # type: (list[str], Any, list[str], float) -> bool
    """Write the `*_metrics` sections and return True while the mgr module shows a healthy, settled
    cluster; False (nothing written) to have `ceph` asked: the module is not there or not
    answering, or the cluster has something to say that only `ceph` says in full."""
    setting = (_config("ceph") or {}).get("prometheus", True)
    if setting is False:
        return False
    # one cache per cluster: the command names its configuration and key
    cache = "ceph_setup-" + hashlib.sha256(" ".join(command).encode()).hexdigest()[:16]
    try:
        made, (found, ratios) = _cached(cache, CEPH_SETUP_MAX_AGE_S, lambda: _ceph_setup(ask))
        if not found and time.time() - made > CEPH_NO_MODULE_MAX_AGE_S:
            # "no module" is asked again sooner: an operator who just enabled it should not wait an hour
            _forget_cached(cache)
            made, (found, ratios) = _cached(cache, CEPH_SETUP_MAX_AGE_S, lambda: _ceph_setup(ask))
    except (RuntimeError, ValueError):
        return False
    url = setting if isinstance(setting, str) else found
    if not url:
        return False
    url = url.rstrip("/") + "/metrics"
    try:
        sections, collections = _ceph_scrape(url, timeout_s)
    except (OSError, ValueError):
        if setting is True:
            _forget_cached(cache)  # the active mgr may have moved: asked again next time
        return False
    if not _ceph_metrics_fresh(cache, collections):
        return False
    if sections is None:
        return False
    try:
        data = json.loads(ratios)
    except ValueError:
        data = None  # a damaged cache: the checks say Ceph's default ratios are assumed
    for key in CEPH_RATIOS:
        if isinstance(data, dict) and isinstance(data.get(key), (int, float)):
            sections["ceph_osd_df_metrics"].append("ceph_osd_%s %r" % (key, float(data[key])))
    for section, _names in CEPH_METRICS:
        out.append("<<<%s:sep(0)>>>" % section)
        if section == "ceph_status_metrics":
            out.append("# watchkeeper: read from %s" % url)
        out.extend(sections[section])
    return True


def _ceph_metrics_fresh(cache, collections):
    # type: (str, float | None) -> bool
    """Whether the module has gathered anew since the agent's last look, as often as it should.

    A mgr that lost its monitors (the cluster without quorum, or they all died) goes on serving
    its last collection as it was, HEALTH_OK included (Ceph 16.2.15, measured); only its count
    of collections stops. So the count must have risen since the last run by the collections
    due in between (one per `scrape_interval`, 15 s unless the operator changed it: then set
    `prometheus_scrape_interval_s` to match, or the agent asks `ceph` more often than needed).
    The first look, and a mgr restarted, have nothing to compare with: `ceph` is asked."""
    interval = float((_config("ceph") or {}).get("prometheus_scrape_interval_s") or 15)
    path = os.path.join(_state_dir(), "cache", cache + "-collections.json")
    now = time.time()
    try:
        with open(path) as handle:
            before, seen = json.load(handle)
        before, seen = float(before), float(seen)
    except (OSError, ValueError, TypeError):
        before, seen = now, None
    _keep(path, [now, collections])
    if collections is None or seen is None or now < before:
        return False
    # a tenth of slack: each collection takes a moment beyond the interval
    return bool(collections - seen >= max(1, int((now - before) / (interval * 1.1))))


def _ceph_scrape(url, timeout_s):
    # type: (str, float) -> tuple[dict[str, list[str]] | None, float | None]
    """(the scrape's lines the checks read by section, or None when it shows anything not settled;
    the module's count of health collections, or None when it has none)."""
    import urllib.request  # only where Ceph is monitored: the agent starts fast everywhere else

    section_of = dict((name, section) for section, names in CEPH_METRICS for name in names)
    sections = dict((section, []) for section, _names in CEPH_METRICS)  # type: dict[str, list[str]]
    settled = {"ceph_health_status": False}
    collections = None
    pgs = {}  # type: dict[str, list[float]]  # pool -> [total, active, clean]
    deadline = time.time() + timeout_s
    read = 0
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        for raw in response:
            read += len(raw)
            if read > CEPH_METRICS_MAX_BYTES or time.time() > deadline:
                raise ValueError("the scrape is longer than %d bytes or %g s" % (CEPH_METRICS_MAX_BYTES, timeout_s))
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.startswith("ceph_"):
                continue
            name = line.split("{", 1)[0].split(" ", 1)[0]
            fields = (line.rsplit("}", 1)[1] if "}" in line else line[len(name):]).split()
            number = float(fields[0]) if fields else float("nan")
            if name == "ceph_prometheus_collect_duration_seconds_count" and 'method="get_health"' in line:
                collections = number
                continue
            if name.startswith("ceph_pg_"):
                kind = name[len("ceph_pg_"):]
                if kind in ("total", "active", "clean"):
                    pool = pgs.setdefault(line[len(name):].split("}", 1)[0], [0, 0, 0])  # its labels
                    pool[("total", "active", "clean").index(kind)] = number
                elif number == 0:
                    continue  # 30 state flags a pool, nearly all 0: what is not said is 0
                sections["ceph_status_metrics"].append(line)
                continue
            section = section_of.get(name)
            if section is None or (name == "ceph_daemon_health_metrics" and number == 0):
                continue
            sections[section].append(line)
            if name == "ceph_health_status":
                settled[name] = number == 0
            elif name.startswith("ceph_num_objects_") and number != 0:
                settled[name] = False
    unsettled = any(not (total == active == clean) for total, active, clean in pgs.values())
    return (sections if all(settled.values()) and not unsettled else None), collections


def _forget_cached(name):
    try:
        os.unlink(os.path.join(_state_dir(), "cache", name + ".json"))
    except OSError:
        pass


def _first_answer(commands, timeout_s=COMMAND_TIMEOUT_S):
    """Output of the first command that succeeds (newer flags first, older releases' forms after)."""
    error = None
    for argv in commands:
        text, error = run_capture(argv, timeout_s)
        if error is None:
            return text, None
    return "", error


def _block(out, marker, text, error):
    out.append("[%s]" % marker)
    if error is not None:
        out.append("watchkeeper-error: %s" % error.replace("\n", " "))
    out.extend(line for line in text.splitlines() if line.strip())


def storage_zfs(out):
    """Pools (OpenZFS takes -p for exact numbers; zfs-fuse and old releases do not)."""
    if not _which("zpool"):
        return
    out.append("<<<zfs:sep(0)>>>")
    _block(out, "zpool status", *_first_answer([["zpool", "status", "-p"], ["zpool", "status"]]))
    columns = ["-o", "name,size,allocated,free,health"]
    listing, error = _first_answer([["zpool", "list", "-Hp"] + columns, ["zpool", "list", "-H"] + columns])
    _block(out, "zpool list", listing, error)
    pools = [line.split("\t")[0] for line in listing.splitlines() if "\t" in line]
    if pools and _which("zfs"):
        _block(out, "zfs get", *run_capture(["zfs", "get", "-Hp", "used,available,compressratio"] + pools))
        _block(out, "zfs snapshots", *_zfs_snapshots())


ZFS_MAX_SNAPSHOTS = 100000
ZFS_GET_BATCH = 500


def _zfs_snapshots():
    """`NAME<TAB>CREATION<TAB>USED` (epoch seconds, bytes) of every snapshot: `zfs list -p` where
    OpenZFS has it; zfs-fuse lists names only, and `zfs get -Hp` gives their numbers."""
    text, error = run_capture(["zfs", "list", "-t", "snapshot", "-H", "-p", "-o", "name,creation,used"])
    if error is None:
        return "\n".join(text.splitlines()[:ZFS_MAX_SNAPSHOTS]), None
    listing, error = run_capture(["zfs", "list", "-t", "snapshot", "-H", "-o", "name"])
    if error is not None:
        return "", error
    names = [name for name in listing.splitlines() if "@" in name][:ZFS_MAX_SNAPSHOTS]
    lines = []  # type: list[str]
    for start in range(0, len(names), ZFS_GET_BATCH):
        batch = names[start:start + ZFS_GET_BATCH]
        got, error = run_capture(["zfs", "get", "-Hp", "creation,used"] + batch)
        if error is not None:
            return "\n".join(lines), error
        values = {}  # type: dict[str, dict[str, str]]
        for line in got.splitlines():
            fields = line.split("\t")
            if len(fields) >= 3:
                values.setdefault(fields[0], {})[fields[1]] = fields[2]
        lines.extend("%s\t%s\t%s" % (name, values.get(name, {}).get("creation", "-"),
                                       values.get(name, {}).get("used", "-")) for name in batch)
    return "\n".join(lines), None


LVM_REPORTS = (
    ("vgs", ["vg_name", "vg_attr", "vg_size", "vg_free", "pv_count", "lv_count", "snap_count",
             "vg_missing_pv_count"]),
    ("pvs", ["pv_name", "vg_name", "pv_attr", "pv_size", "pv_free", "pv_missing", "pv_uuid"]),
    ("lvs", ["vg_name", "lv_name", "lv_attr", "lv_size", "data_percent", "metadata_percent", "pool_lv",
             "origin", "lv_metadata_size", "lv_health_status"]),
)


def storage_lvm(out):
    """Volume groups, physical and logical volumes as JSON reports in bytes, one line each.

    lvm's warnings (a missing PV and where it was last seen) come on stderr: kept as lines.
    """
    if not _which("vgs"):
        return
    out.append("<<<lvm:sep(0)>>>")
    environment = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1")
    warnings = []
    for command, fields in LVM_REPORTS:
        argv = [command, "--reportformat", "json", "--units", "b", "--nosuffix", "-o", ",".join(fields)]
        if command == "lvs":
            argv.insert(1, "-a")
        try:
            done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                  timeout=COMMAND_TIMEOUT_S, universal_newlines=True, errors="replace",
                                  env=environment)
        except subprocess.TimeoutExpired:
            out.append("watchkeeper-error: %s did not answer within %ss" % (command, COMMAND_TIMEOUT_S))
            continue
        except OSError as exc:
            out.append("watchkeeper-error: cannot run %s: %s" % (command, exc))
            continue
        for line in done.stderr.splitlines():
            if line.strip().startswith("WARNING:") and line.strip() not in warnings:
                warnings.append(line.strip())
        try:
            out.append("%s %s" % (command, json.dumps(json.loads(done.stdout))))
        except ValueError:
            last = done.stderr.strip().splitlines()[-1:] or ["no JSON report"]
            out.append("watchkeeper-error: %s exited with %d: %s" % (command, done.returncode, last[0]))
    out.extend("watchkeeper-warning: %s" % line[len("WARNING:"):].strip() for line in warnings)


SMART_MAX_DEVICES = 256


def _smart_devices():
    """(name, type) of every device smartctl can open, disks behind RAID controllers included."""
    text, error = run_capture(["smartctl", "--scan-open", "--json"])
    try:
        found = json.loads(text).get("devices") or []
        return [(str(d["name"]), str(d.get("type") or "auto")) for d in found if isinstance(d, dict)], True
    except (ValueError, AttributeError, KeyError, TypeError):
        pass
    text, error = run_capture(["smartctl", "--scan-open"])  # smartctl 6: no JSON at all
    devices = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 3 and words[1] == "-d":
            devices.append((words[0], words[2]))
    return devices, False


def storage_smart(out):
    """smartctl -x per device; `-n standby` so that checking never spins up a sleeping disk."""
    if not _which("smartctl"):
        return
    devices, has_json = _smart_devices()
    out.append("<<<smart:sep(0)>>>")
    for name, kind in devices[:SMART_MAX_DEVICES]:
        argv = ["smartctl", "-x", "-n", "standby", "-d", kind, name] + (["--json=c"] if has_json else [])
        text, _error = run_capture(argv)  # smartctl's exit code is a bit mask of findings, not a failure
        out.append("[device %s %s]" % (name, kind))
        out.extend(line for line in text.splitlines() if line.strip())


STORCLI = ("storcli64", "storcli", "perccli64", "perccli")
MEGACLI = ("MegaCli64", "MegaCli", "megacli")


def _first_tool(names):
    return next((name for name in names if _which(name)), None)


def storage_megaraid(out):
    """storcli as JSON, one line per query; MegaCli's text where only MegaCli is installed."""
    storcli = _first_tool(STORCLI)
    megacli = None if storcli else _first_tool(MEGACLI)
    if storcli is None and megacli is None:
        return
    out.append("<<<megaraid:sep(0)>>>")
    if storcli is not None:
        out.append("[storcli json]")
        for query in (["/call", "show", "all", "J"], ["/call/vall", "show", "all", "J"],
                      ["/call/eall/sall", "show", "all", "J"]):
            text, error = run_capture([storcli] + query, 60)
            try:
                out.append(json.dumps(json.loads(text)))  # storcli exits non-zero when one controller fails
            except ValueError:
                out.append("watchkeeper-error: %s" % (error or "%s printed no JSON" % storcli))
            if query[0] == "/call/eall/sall" and '"Rbld"' in text:  # progress only while a drive rebuilds
                text, error = run_capture([storcli, "/call/eall/sall", "show", "rebuild", "J"], 60)
                out.append(json.dumps(json.loads(text)) if text.strip().startswith("{") else
                           "watchkeeper-error: %s" % (error or "no rebuild progress"))
        return
    out.append("[megacli]")
    for query in (["-LDInfo", "-Lall", "-aAll"], ["-PDList", "-aAll"], ["-AdpBbuCmd", "-aAll"]):
        text, error = run_capture([megacli] + query + ["-NoLog"], 60)
        if error is not None and not text.strip():
            out.append("watchkeeper-error: %s" % error)
        out.extend(line for line in text.splitlines() if line.strip())
        if query[0] == "-PDList":
            for drive, adapter in _megacli_rebuilding(text):
                progress, _error = run_capture([megacli, "-PDRbld", "-ShowProg", "-PhysDrv", "[%s]" % drive,
                                                "-a%s" % adapter, "-NoLog"], 60)
                out.extend(line for line in progress.splitlines() if line.strip())


def _megacli_rebuilding(text):
    """[("252:3", "0")] for each drive whose firmware state is Rebuild."""
    found, adapter, enclosure, slot = [], "0", "", ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key.startswith("Adapter #"):
            adapter = key[len("Adapter #"):]
        elif key == "Enclosure Device ID":
            enclosure = value
        elif key == "Slot Number":
            slot = value
        elif key == "Firmware state" and value.startswith("Rebuild"):
            found.append(("%s:%s" % (enclosure, slot), adapter))
    return found


# ---------------------------------------------------------------- log files (any OS)
# {"logwatch": {"files": [{"path": "/var/log/syslog",
#                          "rules": [["I", "Unknown rpc \"logout\""], ["C", "(?i)I/O error"], ["W", "(?i)warn"]]}],
#               "state_file": "/var/lib/watchkeeper-agent/logwatch.json", "max_lines": 500,
#               "max_bytes": 104857600}}
# Rules are tried in order, the first match wins: C(rit), W(arn), O(k) lines are sent, I(gnore)d
# and unmatched lines are not. A file seen for the first time is read from its end (no flood of
# history); after that from the offset kept in the state file. A rotated file (new inode) is
# read to its end under its rotated name (NAME.1) first; a truncated one from its start. At
# most max_bytes are read per file and run: the rest is read next time, so memory stays bounded
# however big the log is.
LOG_LEVELS = ("C", "W", "O", "I")
LOG_RULE_ERRORS = []  # type: list[str]
LOG_CHUNK = 1 << 20


def _log_state_file(settings):
    if settings.get("state_file"):
        return settings["state_file"]
    if os.geteuid() == 0:
        return "/var/lib/watchkeeper-agent/logwatch.json"
    return os.path.join(os.path.expanduser("~"), ".cache", "watchkeeper-agent", "logwatch.json")


def _log_rules(spec):
    import re

    rules = []
    for rule in spec.get("rules") or []:
        if isinstance(rule, list) and len(rule) == 2 and rule[0] in LOG_LEVELS:
            try:
                rules.append((rule[0], re.compile(str(rule[1]).encode("utf-8"))))
            except re.error:
                LOG_RULE_ERRORS.append("W watchkeeper-agent: rule %r is not a valid regular expression; "
                                       "it is skipped" % (rule[1],))
        else:
            LOG_RULE_ERRORS.append("W watchkeeper-agent: rule %r is not [LEVEL, REGEX] with LEVEL one of C W O I; "
                                   "it is skipped" % (rule,))
    if not rules:
        return None, []
    # One pattern that finds candidate lines fast; global flags such as (?i) at the start of a
    # rule become scoped ones, (?i:...), since they may not stand inside an alternation.
    parts = []
    for _, rule in rules:
        flags = re.match(b"\\(\\?([aimsx]+)\\)", rule.pattern)
        if flags:
            parts.append(b"(?" + flags.group(1) + b":" + rule.pattern[flags.end():] + b")")
        else:
            parts.append(b"(?:" + rule.pattern + b")")
    try:
        return re.compile(b"|".join(parts)), rules
    except re.error:
        return re.compile(b"(?m)^"), rules  # every line is a candidate: slower, still right


def _scan_log(path, offset, limit, anything, rules, found):
    """Read `path` from `offset`, at most `limit` bytes, ending at a line end; returns the new offset."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        left = limit
        carry = b""
        while left > 0:
            chunk = handle.read(min(LOG_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            data = carry + chunk
            end = data.rfind(b"\n")
            if end < 0:
                if len(data) > LOG_CHUNK * 4:  # one huge line: take it as a line
                    end = len(data) - 1
                else:
                    carry = data
                    continue
            block, carry = data[:end + 1], data[end + 1:]
            offset += len(block)
            _classify(block, anything, rules, found)
        return offset


class LogFindings(object):
    def __init__(self, max_lines):
        self.max_lines = max_lines
        self.lines = []  # type: list[str]
        self.count = {}  # type: dict[str, int]


def _classify(block, anything, rules, found):
    last_line = -1
    for match in anything.finditer(block):
        start = block.rfind(b"\n", 0, match.start()) + 1
        if start == last_line:
            continue  # another match in a line already taken
        last_line = start
        stop = block.find(b"\n", match.start())
        line = block[start:stop if stop >= 0 else len(block)]
        for level, rule in rules:
            if rule.search(line):
                if level != "I":
                    found.count[level] = found.count.get(level, 0) + 1
                    if len(found.lines) < found.max_lines:
                        text = line.decode("utf-8", "replace").translate(TAB_FREE).rstrip("\r")
                        found.lines.append("%s %s" % (level, text))
                break


def storage_logwatch(out):
    settings = _config("logwatch")
    if not settings:
        return
    import glob

    state_path = _log_state_file(settings)
    try:
        state = json.loads(read(state_path))
    except (OSError, ValueError):
        state = {}
    max_lines = int(settings.get("max_lines", 500))
    limit = int(settings.get("max_bytes", 100 * 1024 * 1024))
    new_state = {}
    out.append("<<<logwatch:sep(0)>>>")
    for spec in settings.get("files") or []:
        del LOG_RULE_ERRORS[:]
        anything, rules = _log_rules(spec)
        for path in sorted(glob.glob(spec.get("path", ""))) or [spec.get("path", "")]:
            try:
                info = os.stat(path)
            except OSError:
                out.append("[[[%s:missing]]]" % path)
                continue
            known = state.get(path)
            found = LogFindings(max_lines)
            offset = info.st_size
            try:
                if known is not None and anything is not None:
                    offset = known.get("offset", 0)
                    if known.get("inode") != info.st_ino:
                        rotated = path + ".1"
                        try:
                            if os.stat(rotated).st_ino == known.get("inode"):
                                _scan_log(rotated, offset, limit, anything, rules, found)
                        except OSError:
                            pass  # rotated away and compressed: what was not read is gone
                        offset = 0
                    elif info.st_size < offset:
                        offset = 0  # truncated in place
                    offset = _scan_log(path, offset, limit, anything, rules, found)
            except OSError:
                out.append("[[[%s:cannotopen]]]" % path)
                continue
            new_state[path] = {"inode": info.st_ino, "offset": offset}
            out.append("[[[%s]]]" % path)
            out.extend(LOG_RULE_ERRORS)
            out.extend(found.lines)
            omitted = sum(found.count.values()) - len(found.lines)
            if omitted > 0:
                worst = next(level for level in LOG_LEVELS if found.count.get(level))
                out.append("%s watchkeeper-agent: %d more matching lines were not sent (max_lines %d)"
                           % (worst, omitted, max_lines))
    _save_log_state(state_path, new_state)


def _save_log_state(path, state):
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temporary, path)


STORAGE = [storage_moosefs, storage_moosefs_files, storage_lizardfs, storage_lizardfs_files, storage_ceph,
           storage_zfs, storage_lvm, storage_smart, storage_megaraid, storage_logwatch]


# ---------------------------------------------------------------- virtualization
# libvirt through `virsh`, configured as {"libvirt": {"uri": "qemu:///system", "virsh": "virsh",
# "command_prefix": [], "timeout_s": 10}}; without an entry, where `virsh` and libvirt's socket
# exist. Two `virsh` processes a run, each a session of several commands between `echo`
# markers: the node, the domains' UUIDs and their statistics; then `dominfo` of each domain by
# its UUID. Domain names never enter a command: a name is the hypervisor user's text, and
# virsh's command language would run what a name like "x; destroy y" says.
LIBVIRT_SOCKETS = ("/run/libvirt/libvirt-sock", "/var/run/libvirt/libvirt-sock",
                   "/run/libvirt/libvirt-sock-ro", "/var/run/libvirt/libvirt-sock-ro")
LIBVIRT_MAX_DOMAINS = 2000


def virt_libvirt(out):
    settings = _config("libvirt")
    if settings is None:
        if not (_which("virsh") and any(os.path.exists(path) for path in LIBVIRT_SOCKETS)):
            return
        settings = {}
    virsh = [str(part) for part in settings.get("command_prefix") or []] + [str(settings.get("virsh") or "virsh")]
    if settings.get("uri"):
        virsh += ["-c", str(settings["uri"])]
    timeout_s = float(settings.get("timeout_s") or COMMAND_TIMEOUT_S)
    out.append("<<<libvirt:sep(0)>>>")
    text, error = run_capture(virsh + ["echo [nodeinfo]; nodeinfo; echo [uuids]; list --all --uuid; "
                                       "echo [domstats]; domstats --raw"], timeout_s)
    out.extend(text.splitlines())
    if error is not None:
        out.append("watchkeeper-error: %s" % error.replace("\n", " "))
    uuids = _libvirt_uuids(text)[:LIBVIRT_MAX_DOMAINS]
    if uuids:
        session = "; ".join("echo [dominfo %s]; dominfo %s" % (uuid, uuid) for uuid in uuids)
        text, error = run_capture(virsh + [session], timeout_s)
        out.extend(text.splitlines())
        if error is not None:
            out.append("watchkeeper-error: %s" % error.replace("\n", " "))


def _libvirt_uuids(text):
    """The UUIDs under `[uuids]`, only those that are UUIDs (they go into a virsh command)."""
    found = []
    listing = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            listing = line == "[uuids]"
        elif listing and len(line) == 36 and all(c in "0123456789abcdef-" for c in line.lower()):
            found.append(line)
    return found


def virt_xen(out):
    """Xen's `xl info` and `xl list` on dom0, configured as {"xen": {"xl": "xl", "command_prefix": [],
    "timeout_s": 10}}; without an entry, where `xl` exists and this is dom0."""
    settings = _config("xen")
    if settings is None:
        try:
            dom0 = "control_d" in read("/proc/xen/capabilities")
        except OSError:
            dom0 = False
        if not (dom0 and _which("xl")):
            return
        settings = {}
    xl = [str(part) for part in settings.get("command_prefix") or []] + [str(settings.get("xl") or "xl")]
    timeout_s = float(settings.get("timeout_s") or COMMAND_TIMEOUT_S)
    out.append("<<<xen:sep(0)>>>")
    for command in ("info", "list"):
        out.append("[xl %s]" % command)
        text, error = run_capture(xl + [command], timeout_s)
        out.extend(text.splitlines())
        if error is not None:
            out.append("watchkeeper-error: %s" % error.replace("\n", " "))


VIRTUALIZATION = [virt_libvirt, virt_xen]


# ---------------------------------------------------------------- backups
# Bacula or Bareos through `bconsole`, configured as {"bacula": {"bconsole": "bconsole",
# "config": "/etc/bacula/bconsole.conf", "days": 14, "timeout_s": 30, "interval_s": 300,
# "command_prefix": [], "api": "text"}} ("api": "json" for Bareos' JSON answers); without an
# entry, where bconsole and its configuration exist and a director runs (or once ran: a
# director that stopped is said, not left out). Read-only commands only, written to bconsole's
# input: the backup jobs, clients and storages defined, the director's status and its schedule
# of the next 15 days, the jobs of the last `days` days, the pools and their volumes, then the
# log of each job name's newest failed run (by JobId: digits; a job name never goes into a
# command). Then each client's and storage daemon's status, several at once, each in its own
# bconsole within `daemon_timeout_s` ("daemons": false to leave it out): the director waits
# minutes for a daemon that does not answer. A daemon's name goes into that command only when
# it is a plain Bacula name (letters, digits, `-_.:`).
# Kept for `interval_s`: the catalog is not asked every minute.
BACULA_CONFIGS = ("/etc/bacula/bconsole.conf", "/etc/bareos/bconsole.conf")
BACULA_FAILED = ("E", "e", "f", "A")
BACULA_MAX_LOGS = 50
BACULA_SESSION = (".jobs type=B", ".clients", ".storage", "status director", "status schedule days=15",
                  "llist jobs days=DAYS", "llist pools", "list volumes")
BACULA_SESSION_STARTS = tuple(command.split("DAYS")[0] for command in BACULA_SESSION)
BACULA_MAX_DAEMONS = 200
BACULA_PARALLEL = 8
BACULA_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,127}$")


def backup_bacula(out):
    settings = _config("bacula")
    if settings is None:
        config = next((path for path in BACULA_CONFIGS if os.access(path, os.R_OK)), None)
        if config is None or not _which("bconsole") or not _bacula_director_here():
            return
        settings = {"config": config}
    interval = int(settings.get("interval_s", 300))
    made, lines = _cached("bacula", interval, lambda: _bacula_lines(settings))
    out.append("<<<bacula:sep(0):cached(%d,%d)>>>" % (made, max(interval, 1)))
    out.extend(lines)


def _bacula_director_here():
    """Whether this is a director's host: one runs here, or one ran here before (then a director
    that is gone is said, not left out). A machine with only the packages installed is not."""
    seen = os.path.join(_state_dir(), "bacula-director-seen")
    try:
        pids = [pid for pid in os.listdir("/proc") if pid.isdigit()]
    except OSError:
        pids = []
    for pid in pids:
        try:
            if read("/proc/%s/comm" % pid).strip() in ("bacula-dir", "bareos-dir"):
                _keep(seen, {"at": time.time()})
                return True
        except OSError:
            continue  # gone meanwhile
    return os.path.exists(seen)


def _bacula_lines(settings):
    bconsole = [str(part) for part in settings.get("command_prefix") or []] + [str(settings.get("bconsole")
                                                                                  or "bconsole")]
    if settings.get("config"):
        bconsole += ["-c", str(settings["config"])]
    timeout_s = float(settings.get("timeout_s") or 30)
    days = int(settings.get("days") or 14)
    lines = ["[agent] now=%d utc_offset=%d" % (time.time(), time.localtime().tm_gmtoff)]
    commands = [command.replace("DAYS", str(days)) for command in BACULA_SESSION]
    if settings.get("api") == "json":  # Bareos 15.2 and later: JSON answers where a command has them
        commands = [".api json"] + [".storages" if command == ".storage" else command for command in commands]
    text, error = run_capture(bconsole, timeout_s, "\n".join(commands + ["quit", ""]))
    lines.extend(text.splitlines())
    if error is not None:
        lines.append("watchkeeper-error: %s" % error.replace("\n", " "))
        return lines
    main = text
    failed = _bacula_failed_jobids(text)[:BACULA_MAX_LOGS]
    if failed:
        session = "".join("list joblog jobid=%d\n" % jobid for jobid in failed) + "quit\n"
        text, error = run_capture(bconsole, timeout_s, session)
        lines.extend(text.splitlines())
        if error is not None:
            lines.append("watchkeeper-error: %s" % error.replace("\n", " "))
    if settings.get("daemons", True):
        lines.extend(_bacula_daemons(bconsole, main, float(settings.get("daemon_timeout_s") or 20)))
    return lines


def _bacula_names(text, command):
    """The names a dot command (`.clients`, `.storage`) answered with: the lines between its echo
    and the next command's."""
    names = []  # type: list[str]
    inside = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "quit" or stripped.startswith(BACULA_SESSION_STARTS):
            inside = stripped == command
        elif inside and stripped and not stripped.startswith("You have messages"):
            names.append(stripped)
    return names


def _bacula_daemons(bconsole, text, timeout_s):
    """`[daemon] KIND NAME ok|failed|timeout|skipped TEXT` for each client and storage daemon."""
    asks = []
    for kind, command in (("client", ".clients"), ("storage", ".storage")):
        for name in _bacula_names(text, command)[:BACULA_MAX_DAEMONS]:
            asks.append((kind, name))
    lines = []
    for start in range(0, len(asks), BACULA_PARALLEL):
        batch = asks[start:start + BACULA_PARALLEL]
        running = []
        for kind, name in batch:
            if not BACULA_PLAIN_NAME.match(name):
                lines.append("[daemon] %s %s skipped its name is not passed to bconsole"
                             % (kind, name.replace(" ", "_")))
                continue
            try:
                process = subprocess.Popen(bconsole, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, universal_newlines=True, errors="replace")
            except OSError as exc:
                lines.append("[daemon] %s %s failed cannot run bconsole: %s" % (kind, name, exc))
                continue
            running.append((kind, name, process))
        deadline = time.time() + timeout_s
        for kind, name, process in running:
            try:
                said, _ = process.communicate("status %s=%s\nquit\n" % (kind, name),
                                              timeout=max(deadline - time.time(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                lines.append("[daemon] %s %s timeout no answer within %ss" % (kind, name, timeout_s))
                continue
            lines.append("[daemon] %s %s %s" % (kind, name, _bacula_daemon_said(said)))
    return lines


def _bacula_daemon_said(said):
    """`ok VERSION` when the daemon answered its status, else `failed` and the director's words."""
    for line in said.splitlines():
        if " Version: " in line and not line.startswith("1000 OK"):
            return "ok " + line.split(" Version: ", 1)[1].split(" (")[0]
    failed = [line.strip() for line in said.splitlines() if line.strip().startswith("Failed to connect")]
    last = [line.strip() for line in said.splitlines() if line.strip() and line.strip() not in ("quit", "====")]
    return "failed " + (failed[0] if failed else last[-1] if last else "no answer").replace("\t", " ")


def _bacula_failed_jobids(text):
    """The JobId of each job name's newest run, where that run failed (llist's `key: value` blocks)."""
    newest = {}  # type: dict[str, dict[str, str]]
    job = {}  # type: dict[str, str]
    for line in text.splitlines() + [""]:
        key, _, value = line.strip().partition(": ")
        key = key.lower().rstrip(":")
        if key == "jobid" and job:
            newest = _bacula_keep(newest, job)
            job = {}
        if key in ("jobid", "name", "jobstatus") and value.strip():
            job[key] = value.strip()
    newest = _bacula_keep(newest, job)
    return sorted(int(job["jobid"]) for job in newest.values() if job.get("jobstatus") in BACULA_FAILED)


def _bacula_keep(newest, job):
    if job.get("jobid", "").isdigit() and job.get("name"):
        known = newest.get(job["name"])
        if known is None or int(job["jobid"]) > int(known["jobid"]):
            newest[job["name"]] = job
    return newest


# Backup targets that rsync, dump or `zfs send` write, configured as {"backup_files": [{"path":
# "/srv/backup/db1", "pattern": "*.dump", "max_depth": 4}]}: below each path, the newest file
# (whose name matches `pattern`, default every file) by modification time, and how many files
# and bytes; a walk of at most BACKUP_FILES_MAX entries and BACKUP_FILES_SECONDS seconds per
# path, never following symbolic links. One JSON line per path.
BACKUP_FILES_MAX = 200000
BACKUP_FILES_SECONDS = 10.0


def backup_files(out):
    targets = CONFIG.get("backup_files")
    if not isinstance(targets, list) or not targets:
        return
    out.append("<<<backup_files:sep(0)>>>")
    for target in targets[:100]:
        if isinstance(target, dict) and isinstance(target.get("path"), str):
            out.append(json.dumps(_newest_file(target), sort_keys=True))


def _newest_file(target):
    path = target["path"]
    pattern = str(target.get("pattern") or "*")
    max_depth = int(target.get("max_depth") or 8)
    limit = int(target.get("max_entries") or BACKUP_FILES_MAX)
    found = {"path": path, "pattern": pattern, "files": 0, "bytes": 0}
    if not os.path.isdir(path):
        found["error"] = "not a directory" if os.path.exists(path) else "does not exist"
        return found
    started = time.time()
    newest = None
    seen = 0
    unreadable = []
    top = path.rstrip("/").count("/")

    def failed(error):
        unreadable.append(error.filename)

    for folder, folders, files in os.walk(path, onerror=failed):
        if folder.rstrip("/").count("/") - top >= max_depth:
            del folders[:]
        for name in files:
            seen += 1
            if seen > limit or time.time() - started > BACKUP_FILES_SECONDS:
                found["cut"] = "after %d entries in %.0f s" % (seen - 1, time.time() - started)
                break
            if not fnmatch.fnmatchcase(name, pattern):
                continue
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue  # gone meanwhile
            if not stat.S_ISREG(info.st_mode):
                continue
            found["files"] += 1
            found["bytes"] += info.st_size
            if newest is None or info.st_mtime > newest[0]:
                newest = (info.st_mtime, os.path.relpath(os.path.join(folder, name), path), info.st_size)
        if "cut" in found:
            break
    if newest is not None:
        found["newest_mtime"], found["newest"], found["newest_bytes"] = newest
    if unreadable:
        found["unreadable"] = len(unreadable)
    return found


BACKUPS = [backup_bacula, backup_files]


# ---------------------------------------------------------------- FreeBSD (collectors follow in their own issue)
def freebsd_check_mk(out):
    uname = platform.uname()
    out.append("<<<check_mk>>>")
    out.append("Version: %s" % VERSION)
    out.append("AgentOS: freebsd")
    out.append("Hostname: %s" % socket.gethostname())
    out.append("OSName: %s %s" % (uname.system, uname.release))
    out.append("KernelRelease: %s" % uname.release)
    out.append("Architecture: %s" % uname.machine)


FREEBSD = [freebsd_check_mk]

COLLECTORS = {"linux": LINUX + STORAGE + VIRTUALIZATION + BACKUPS, "freebsd": FREEBSD + STORAGE}


def collect():
    system = platform.system().lower()
    collectors = COLLECTORS.get(system, [])
    out = []
    failed = list(CONFIG_ERRORS)
    for collector in collectors:
        part = []  # type: list[str]
        try:
            collector(part)
        except Exception as exc:  # one broken collector must not silence the others
            failed.append("%s(%s)" % (collector.__name__, type(exc).__name__))
            continue
        out.extend(part)
    if failed or not collectors:
        out.append("<<<check_mk>>>")
        if not collectors:
            out.append("AgentOS: %s" % system)
        out.append("FailedCollectors: %s" % " ".join(failed or ["unsupported-os"]))
    return ("\n".join(out) + "\n").encode("utf-8", "replace")


def serve(address, certfile=None, keyfile=None):
    """Answer every TCP connection with fresh output, one connection at a time."""
    host, _, port = address.rpartition(":")
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host.strip("[]") or "127.0.0.1", int(port)))
    listener.listen(8)
    sys.stderr.write("listening on %s:%d\n" % listener.getsockname()[:2])
    sys.stderr.flush()
    context = None
    if certfile:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
    while True:
        conn, _peer = listener.accept()
        try:
            conn.settimeout(30)
            if context is not None:
                conn = context.wrap_socket(conn, server_side=True)
            conn.sendall(collect())
        except (OSError, ValueError):
            pass  # a client that went away or spoke no TLS: serve the next one
        finally:
            conn.close()


DEFAULT_CONFIG = "/etc/watchkeeper/agent.json"
CONFIG_ERRORS = []  # type: list[str]


def load_config(path):
    """Read the JSON configuration; a missing default file is no error, a broken one is reported."""
    explicit = path or os.environ.get("WATCHKEEPER_AGENT_CONFIG")
    try:
        with open(explicit or DEFAULT_CONFIG) as handle:
            loaded = json.load(handle)
    except FileNotFoundError:
        if explicit:
            CONFIG_ERRORS.append("config(missing)")
        return
    except (OSError, ValueError):
        CONFIG_ERRORS.append("config(unreadable)")
        return
    if isinstance(loaded, dict):
        CONFIG.update(loaded)
    else:
        CONFIG_ERRORS.append("config(not-an-object)")


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print("usage: watchkeeper-agent [--config FILE] [--listen ADDRESS:PORT [--tls-cert FILE --tls-key FILE]]")
        return 0
    if args and args[0] == "--version":
        print(VERSION)
        return 0
    options = dict(zip(args[::2], args[1::2]))  # noqa: B905 - zip(strict=) needs Python 3.10
    load_config(options.get("--config"))
    if "--listen" in options:
        serve(options["--listen"], options.get("--tls-cert"), options.get("--tls-key"))
        return 0
    output = collect()
    stream = getattr(sys.stdout, "buffer", sys.stdout)
    stream.write(output)
    stream.flush()
    return 0

if __name__ == "__main__":
    sys.exit(main())
