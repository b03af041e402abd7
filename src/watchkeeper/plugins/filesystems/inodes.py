"""Inodes used on each filesystem that has a fixed inode table (not btrfs, ZFS or XFS's
dynamic ones, which report zero or grow on demand and so are left out)."""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Fixed,
    Levels,
    Metric,
    Result,
    Service,
    State,
    ValueStore,
    check_levels,
    render,
)
from watchkeeper.plugins.filesystems.df import IGNORED_FS_TYPES, Filesystem


@dataclass(frozen=True, slots=True)
class InodeParams:
    used_percent: Levels | None = Fixed(warn=90.0, crit=95.0)


def discover_inodes(section: dict[str, Filesystem]) -> DiscoveryResult:
    for mountpoint, fs in section.items():
        if fs.fs_type not in IGNORED_FS_TYPES and fs.inodes_total:
            yield Service(mountpoint)


def check_inodes(
    item: str, params: InodeParams, section: dict[str, Filesystem], store: ValueStore, now: float
) -> CheckResult:
    fs = section.get(item)
    if fs is None or fs.inodes_total is None or fs.inodes_used is None:
        yield Result(State.UNKNOWN, f"no inode figures for {item} in the agent output")
        return
    yield from check_levels(
        100.0 * fs.inodes_used / fs.inodes_total, levels_upper=params.used_percent,
        metric_name="inodes_used_percent", label="Inodes used", render_func=render.percent,
        boundaries=(0.0, 100.0),
    )
    yield Result(State.OK, f"{fs.inodes_used} of {fs.inodes_total}")
    yield Metric("inodes_used", fs.inodes_used, boundaries=(0, fs.inodes_total))


filesystem_inodes = CheckPlugin(
    name="df_inodes",
    section="df",
    title="Inodes %s",
    discover=discover_inodes,
    check=check_inodes,
    default_params=InodeParams(),
)
