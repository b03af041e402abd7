"""Mount options from `<<<mounts>>>`, the agent's copy of /proc/mounts (FreeBSD: `mount -p`, same columns).

    /dev/vda / ext4 rw,relatime,discard 0 0
    /dev/loop0 /mnt/wbtest ext4 rw,relatime,nobarrier,data=writeback 0 0

Flags options that trade safety for speed, a filesystem the kernel remounted read-only
(ext4 `errors=remount-ro` after an I/O error), and any other change since discovery.
Mount points escape space, tab, newline and backslash as octal (`\\040`).
"""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    AgentSection,
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Result,
    Service,
    State,
    StringTable,
    ValueStore,
)

UNSAFE_OPTIONS = {
    "barrier=0": "write barriers are off: a power loss can corrupt the filesystem",
    "nobarrier": "write barriers are off: a power loss can corrupt the filesystem",
    "data=writeback": "data is written back after its metadata: after a crash files can hold stale data",
    "async": "all writes are asynchronous (FreeBSD's mount -o async): a crash can leave the filesystem "
             "inconsistent",
}
"""Linux never lists `async` in /proc/mounts (its default, and safe there); FreeBSD's `mount -p` lists
it only for a filesystem mounted with `-o async`, where metadata writes are not ordered at all."""

STORAGE_FS_TYPES = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "jfs", "reiserfs", "f2fs", "vfat", "exfat", "ntfs",
     "ntfs3", "nilfs2", "bcachefs", "ufs"}
)


@dataclass(frozen=True, slots=True)
class Mount:
    device: str
    fs_type: str
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MountParams:
    options: str | None = None
    """The options seen at discovery, comma-separated; changes against them are reported."""


def _unescape(field: str) -> str:
    return (field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
            .replace("\\134", "\\"))


def parse_mounts(table: StringTable) -> dict[str, Mount]:
    mounts: dict[str, Mount] = {}
    for row in table:
        if len(row) < 4:
            continue
        mountpoint = _unescape(row[1])
        # A later line for the same mount point is a mount on top: that is what is visible.
        mounts[mountpoint] = Mount(_unescape(row[0]), row[2], tuple(row[3].split(",")))
    return mounts


def discover_mounts(section: dict[str, Mount]) -> DiscoveryResult:
    for mountpoint, mount in section.items():
        if mount.fs_type in STORAGE_FS_TYPES:
            yield Service(mountpoint, {"options": ",".join(mount.options)})


def check_mounts(
    item: str, params: MountParams, section: dict[str, Mount], store: ValueStore, now: float
) -> CheckResult:
    mount = section.get(item)
    if mount is None:
        yield Result(State.CRIT, f"{item} is not mounted; if that is intended, "
                     "run service discovery for this host again")
        return
    yield Result(State.OK, f"{mount.device} ({mount.fs_type})", details=",".join(mount.options))
    options = set(mount.options)
    for option, why in UNSAFE_OPTIONS.items():
        if option in options:
            yield Result(State.WARN, f"unsafe option {option} on {item}: {why}")
    if params.options is None:
        return
    before = set(params.options.split(","))
    if "ro" in options and "rw" in before:
        yield Result(State.CRIT, f"{item} is now read-only (it was read-write at discovery); "
                     "the kernel does this after I/O errors: look at dmesg")
    added, removed = sorted(options - before - {"ro", "rw"}), sorted(before - options - {"ro", "rw"})
    if added or removed:
        change = ", ".join([f"+{o}" for o in added] + [f"-{o}" for o in removed])
        yield Result(State.WARN, f"options changed since discovery: {change}; "
                     "run `watchkeeper discover HOST --accept-changed` to accept them")


mounts = CheckPlugin(
    name="mounts",
    section="mounts",
    title="Mount options %s",
    discover=discover_mounts,
    check=check_mounts,
    default_params=MountParams(),
)


mounts_section = AgentSection("mounts", parse_mounts)
