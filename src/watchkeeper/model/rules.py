"""Rules: check parameters for the services of matching hosts and items (shell-style globs),
and of hosts carrying given labels (so hosts an inventory source makes get their levels)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    plugin: str
    host_glob: str
    item_glob: str
    params: dict[str, Any]
    comment: str
    host_labels: dict[str, str] = field(default_factory=dict)
    """Labels a host must carry, each with this value (besides matching `host_glob`)."""


def rules_for_host(rules: Iterable[Rule], host: str, labels: Mapping[str, str] | None = None) -> list[Rule]:
    return [rule for rule in rules if fnmatch.fnmatchcase(host, rule.host_glob)
            and (not rule.host_labels or (labels is not None and all(
                labels.get(key) == value for key, value in rule.host_labels.items())))]


def params_from_rules(rules: Iterable[Rule], plugin: str, item: str) -> dict[str, Any]:
    """Parameters for one service: for each parameter the first matching rule wins."""
    params: dict[str, Any] = {}
    for rule in rules:
        if rule.plugin == plugin and fnmatch.fnmatchcase(item, rule.item_glob):
            for key, value in rule.params.items():
                params.setdefault(key, value)
    return params


def items_named_by_rules(rules: Iterable[Rule], plugin: str) -> list[str]:
    """Items that rules for `plugin` name literally (no glob characters), in rule order."""
    seen: dict[str, None] = {}
    for rule in rules:
        if rule.plugin == plugin and rule.item_glob and not any(c in rule.item_glob for c in "*?["):
            seen.setdefault(rule.item_glob, None)
    return list(seen)
