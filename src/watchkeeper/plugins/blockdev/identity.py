"""Block-device identity drift: a device name that now points at another disk or LUN.

Discovery records each disk's and partition's size, serial, WWN, model, label, filesystem
type and UUID. Any of them changing is CRIT, because the next `mkfs /dev/sdb` or installer
run would then hit the wrong device (the installer that wrote over a VM's LUN).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from watchkeeper.checkapi import (
    CheckPlugin,
    CheckResult,
    DiscoveryResult,
    Metric,
    Result,
    Service,
    State,
    ValueStore,
    render,
)
from watchkeeper.plugins.blockdev.lsblk import BlockDevice

IDENTITY_TYPES = frozenset({"disk", "part", "mpath", "lvm", "crypt"})


@dataclass(frozen=True, slots=True)
class IdentityParams:
    """What the device was at discovery; None means the field was empty then."""

    size_bytes: int | None = None
    serial: str | None = None
    wwn: str | None = None
    model: str | None = None
    label: str | None = None
    fs_type: str | None = None
    uuid: str | None = None


HARDWARE_FIELDS = ("size_bytes", "serial", "wwn", "model")
CONTENT_FIELDS = ("label", "fs_type", "uuid")


def _identity(device: BlockDevice) -> dict[str, str | int | None]:
    return {name: getattr(device, name) for name in HARDWARE_FIELDS + CONTENT_FIELDS}


def discover_identity(section: dict[str, BlockDevice]) -> DiscoveryResult:
    for name, device in section.items():
        if device.type in IDENTITY_TYPES and device.size_bytes:
            yield Service(name, _identity(device))


def _show(field: str, value: object) -> str:
    if value is None:
        return f"no {field.replace('_bytes', '').replace('_', ' ')}"
    if field == "size_bytes" and isinstance(value, int):
        return f"size {render.bytes_(value)}"
    return f"{field.replace('_', ' ')} {value}"


def _describe(values: Mapping[str, object]) -> str:
    return ", ".join(_show(name, value) for name, value in values.items())


def check_identity(
    item: str, params: IdentityParams, section: dict[str, BlockDevice], store: ValueStore, now: float
) -> CheckResult:
    device = section.get(item)
    was = {f.name: getattr(params, f.name) for f in fields(params)}
    if device is None:
        yield Result(State.CRIT, f"{item} is gone (was {_describe(was)}); if it was removed on purpose, "
                     "run service discovery for this host again")
        return
    now_is = _identity(device)
    hardware = [name for name in HARDWARE_FIELDS if now_is[name] != was[name]]
    content = [name for name in CONTENT_FIELDS if now_is[name] != was[name]]
    if hardware:
        yield Result(State.CRIT, f"{item} now points at a different device: it was "
                     f"{_describe({n: was[n] for n in hardware})} and is now "
                     f"{_describe({n: now_is[n] for n in hardware})}")
    if content:
        yield Result(State.CRIT, f"{item} was overwritten or reformatted: it was "
                     f"{_describe({n: was[n] for n in content})} and is now "
                     f"{_describe({n: now_is[n] for n in content})}")
    if not hardware and not content:
        shown = {n: v for n, v in now_is.items() if v is not None}
        yield Result(State.OK, f"unchanged since discovery: {_describe(shown)}")
    if device.size_bytes is not None:
        yield Metric("blockdev_size_bytes", device.size_bytes)


blockdev_identity = CheckPlugin(
    name="blockdev_identity",
    section="lsblk",
    title="Block device %s",
    discover=discover_identity,
    check=check_identity,
    default_params=IdentityParams(),
)
