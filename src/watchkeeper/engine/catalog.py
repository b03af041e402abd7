"""Finding the check plugins: every `CheckPlugin` defined at module level under a package."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import Any

from watchkeeper.checkapi import CheckPlugin

AnyPlugin = CheckPlugin[Any, Any]


def find_plugins(package: str = "watchkeeper.plugins") -> tuple[AnyPlugin, ...]:
    """Import every module below `package` and collect its CheckPlugin values, by name."""
    root = importlib.import_module(package)
    found: dict[str, AnyPlugin] = {}
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, CheckPlugin):
                other = found.setdefault(value.name, value)
                if other is not value:
                    raise RuntimeError(f"two check plugins are named {value.name!r}: rename one")
    return tuple(sorted(found.values(), key=lambda plugin: plugin.name))


@functools.cache
def builtin_plugins() -> tuple[AnyPlugin, ...]:
    return find_plugins()


def plugins_by_name() -> dict[str, AnyPlugin]:
    return {plugin.name: plugin for plugin in builtin_plugins()}
