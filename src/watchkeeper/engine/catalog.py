"""Finding the plugins: every `AgentSection` and `CheckPlugin` defined at module level under a package."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any

from watchkeeper.checkapi import AgentSection, CheckPlugin, SnmpSection

AnyPlugin = CheckPlugin[Any, Any]
AnySection = AgentSection[Any]


@dataclass(frozen=True)  # not slots: the derived tables below are cached on the instance
class Catalog:
    """The sections the engine can parse and the checks that read them.

    `sections` is ordered so that for each parsed section the agent section of the same name
    comes first: it wins when an output carries two sections with the same facts.
    """

    sections: tuple[AnySection, ...]
    plugins: tuple[AnyPlugin, ...]

    @functools.cached_property
    def raw_names(self) -> frozenset[str]:
        """Every `<<<section>>>` name some parser reads, companions included."""
        return frozenset(name for section in self.sections for name in (section.name, *section.companions))

    @functools.cached_property
    def companion_names(self) -> frozenset[str]:
        """Sections some parser reads beside its own (`lvm_lvs` with `lvm_vgs`)."""
        return frozenset(name for section in self.sections for name in section.companions)

    @functools.cached_property
    def positions(self) -> dict[str, list[tuple[int, AnySection]]]:
        """Agent section name -> the sections that parse it (two may, for different parsed
        sections), with their places in `sections`: an output's twenty sections are looked up
        and put in order, instead of going through every known one."""
        found: dict[str, list[tuple[int, AnySection]]] = {}
        for index, section in enumerate(self.sections):
            found.setdefault(section.name, []).append((index, section))
        return found

    @functools.cached_property
    def piggyback_sections(self) -> tuple[AnySection, ...]:
        """Sections whose values speak of other hosts (`AgentSection.piggyback`)."""
        return tuple(section for section in self.sections if section.piggyback is not None)

    @functools.cached_property
    def snmp_sections(self) -> tuple[SnmpSection[Any], ...]:
        """What a fetch from an SNMP device walks."""
        return tuple(section for section in self.sections if isinstance(section, SnmpSection))

    @functools.cached_property
    def by_name(self) -> dict[str, AnyPlugin]:
        return {plugin.name: plugin for plugin in self.plugins}

    @functools.cached_property
    def sources(self) -> dict[str, tuple[str, ...]]:
        """Parsed section -> the agent sections that can produce it, preferred first."""
        found: dict[str, list[str]] = {}
        for section in self.sections:
            found.setdefault(section.produces, []).append(section.name)
        return {name: tuple(raw) for name, raw in found.items()}

    def with_extra(self, sections: tuple[AnySection, ...] = (), plugins: tuple[AnyPlugin, ...] = ()) -> Catalog:
        return make_catalog((*self.sections, *sections), (*self.plugins, *plugins))


def make_catalog(sections: tuple[AnySection, ...], plugins: tuple[AnyPlugin, ...]) -> Catalog:
    ordered = sorted(sections, key=lambda s: (s.produces, s.name != s.produces, s.name))
    return Catalog(tuple(ordered), tuple(sorted(plugins, key=lambda plugin: plugin.name)))


def find_catalog(package: str = "watchkeeper.plugins") -> Catalog:
    """Import every module below `package` and collect its sections and check plugins, by name."""
    root = importlib.import_module(package)
    sections: dict[str, AnySection] = {}
    plugins: dict[str, AnyPlugin] = {}
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, CheckPlugin):
                known: Any = plugins.setdefault(value.name, value)
            elif isinstance(value, AgentSection):
                known = sections.setdefault(value.name, value)
            else:
                continue
            if known is not value:
                raise RuntimeError(f"two {type(value).__name__}s are named {value.name!r}: rename one")
    catalog = make_catalog(tuple(sections.values()), tuple(plugins.values()))
    unread = sorted({plugin.section for plugin in catalog.plugins} - set(catalog.sources))
    if unread:
        raise RuntimeError(f"check plugins read sections that no AgentSection produces: {', '.join(unread)}")
    return catalog


@functools.cache
def builtin_catalog() -> Catalog:
    return find_catalog()


def builtin_plugins() -> tuple[AnyPlugin, ...]:
    return builtin_catalog().plugins


def plugins_by_name() -> dict[str, AnyPlugin]:
    return builtin_catalog().by_name
