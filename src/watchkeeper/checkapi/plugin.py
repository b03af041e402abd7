"""The shapes of plugins: how an agent section becomes a typed value (`AgentSection`), and how
a check discovers and judges items in such a value (`CheckPlugin`).

A plugin module defines them as module-level values; the engine finds them there. Importing a
plugin registers nothing. A section is parsed once per cycle, however many checks read it.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from watchkeeper.checkapi.counters import ValueStore
from watchkeeper.checkapi.levels import Fixed, LevelsError, NagiosLevels, levels_from_json
from watchkeeper.model.verdicts import CheckResult, DiscoveryResult, StringTable

SectionT = TypeVar("SectionT")
ParamsT = TypeVar("ParamsT")


class SectionUnparsed(ValueError):
    """Raised by a parser for output it cannot read (an unknown format, a cut-off document).

    Not a bug: the host's `Agent` service names the section and the reason, and the services
    that read the section become UNKNOWN with it, so nothing falls silent.
    """


@dataclass(frozen=True, slots=True)
class AgentSection(Generic[SectionT]):
    """How the rows of `<<<name>>>` become a typed value.

    `parse` returns None when there is nothing to monitor (a tool that found no devices), and
    raises `SectionUnparsed` for output it cannot read. `parsed_section` names the value it
    produces (default: `name`), which is what check plugins read: another agent's section with
    the same facts (Checkmk's `<<<md>>>` beside `<<<mdstat>>>`) produces the same value for the
    same checks. When both are in one output, the section named like the value wins.
    `companions` are further sections this parser reads: their rows follow the section's own,
    each after a row holding only `<<<companion>>>` (a line no section body can contain).
    A parser that reads most lines but not all gives its value an `unread` list (each entry
    the reason and the line); the host's `Agent` service names them, so a skipped line is seen.
    `piggyback` derives from the value what it says about other hosts (a hypervisor's domains):
    per host name, agent text for that host, as a `<<<<host>>>>` block would carry it.
    """

    name: str
    parse: Callable[[StringTable], SectionT | None]
    parsed_section: str = ""
    companions: tuple[str, ...] = ()
    piggyback: Callable[[SectionT], Mapping[str, str]] | None = None

    @property
    def produces(self) -> str:
        return self.parsed_section or self.name


@dataclass(frozen=True, slots=True)
class CheckPlugin(Generic[SectionT, ParamsT]):
    """A check over one parsed section (by the `AgentSection.produces` name).

    `title` names the service; `%s` in it is replaced by the item (`"Filesystem %s"`).
    When `items_from_rules` is set, the services are the items that rules for this plugin name
    literally (`watchkeeper rule add process --item sshd pattern=...`), not what `discover`
    finds: what to look for is the user's to say, as for processes.
    `reads_acknowledgements`: the check clears what it keeps when its service is acknowledged;
    the engine then sets the parameter `acknowledged_at` (when) while an acknowledgement holds.
    """

    name: str
    section: str
    title: str
    discover: Callable[[SectionT], DiscoveryResult]
    check: Callable[[str, ParamsT, SectionT, ValueStore, float], CheckResult]
    default_params: ParamsT
    items_from_rules: bool = False
    reads_acknowledgements: bool = False

    def service_name(self, item: str) -> str:
        return self.title % item if "%s" in self.title else self.title


@dataclass(frozen=True, slots=True)
class NoParams:
    """For checks that have nothing to configure."""


class ParamsError(ValueError):
    """Parameters from a rule or from discovery do not fit the plugin's parameter type."""


def build_params(defaults: ParamsT, *overrides: Mapping[str, object]) -> ParamsT:
    """The plugin's default parameters with rule values and discovered facts laid over them.

    Values come from JSON, so each is converted to its field's declared type here, once,
    and a wrong name or type is reported with the names that are known.
    """
    if not overrides or not any(overrides):
        return defaults
    if not dataclasses.is_dataclass(defaults) or isinstance(defaults, type):
        raise ParamsError(f"{type(defaults).__name__} parameters take no overrides")
    hints = _field_types(type(defaults))
    changes: dict[str, Any] = {}
    for layer in overrides:
        for key, value in layer.items():
            if key not in hints:
                known = ", ".join(sorted(hints))
                raise ParamsError(f"unknown parameter {key!r}; this check knows: {known}")
            changes[key] = _convert(key, hints[key], value)
    return dataclasses.replace(defaults, **changes)


@functools.cache
def _field_types(params_type: type) -> dict[str, Any]:
    """Resolving annotations is slow and they never change: once per parameter class."""
    return typing.get_type_hints(params_type)


def _convert(key: str, hint: object, value: object) -> object:
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None:
        if type(None) in options:
            return None
        raise ParamsError(f"parameter {key!r} must not be empty")
    if any(option in (Fixed, NagiosLevels) for option in options):
        try:
            return levels_from_json(value)
        except LevelsError as exc:
            raise ParamsError(f"parameter {key!r}: {exc}") from None
    for option in options:
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if option is str and isinstance(value, str):
            return value
        if typing.get_origin(option) is tuple and isinstance(value, list | tuple):  # e.g. pattern lists
            return tuple(tuple(item) if isinstance(item, list) else item for item in value)
    raise ParamsError(f"parameter {key!r}: {value!r} is not of type {hint}")
