"""Piggyback data: what one host's output says about other hosts (a hypervisor about its
domains, an OpenNebula frontend about its VMs, any `<<<<host>>>>` block a Checkmk agent or
special agent sends), kept in memory until those hosts are checked.

A source's newest output replaces all it said before: a domain it no longer lists has no
data from it any more. Data is fresh for `max_age_s` (default three of its source's
intervals); a host whose every piece is older is DOWN with the name and age of its last source.
A host with address `piggyback` has nothing but this data (a VM with no agent inside); a host
with an agent gets the fresh data added to its own output.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from watchkeeper.collect.sections import SOURCES_SECTION
from watchkeeper.collect.transport import AgentOutput
from watchkeeper.errors import AgentFailed
from watchkeeper.model.hosts import HostConfig

DEFAULT_AGE_INTERVALS = 3.0


@dataclass(frozen=True, slots=True)
class Piggybacked:
    source: str
    at: float
    text: str
    max_age_s: float


class PiggybackHub:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._by_target: dict[str, dict[str, Piggybacked]] = {}
        self._by_source: dict[str, frozenset[str]] = {}

    def put(self, source: str, at: float, data: Mapping[str, str], interval_s: float) -> frozenset[str]:
        """Replace what `source` says about other hosts; returns the hosts it speaks of now."""
        max_age = DEFAULT_AGE_INTERVALS * interval_s
        targets = frozenset(name for name in data if name != source)
        for gone in self._by_source.get(source, frozenset()) - targets:
            pieces = self._by_target.get(gone)
            if pieces is not None:
                pieces.pop(source, None)
                if not pieces:
                    del self._by_target[gone]
        for target in targets:
            self._by_target.setdefault(target, {})[source] = Piggybacked(source, at, data[target], max_age)
        if targets:
            self._by_source[source] = targets
        else:
            self._by_source.pop(source, None)
        return targets

    def forget_source(self, source: str) -> None:
        self.put(source, self.clock(), {}, 1.0)

    def pieces(self, target: str) -> list[Piggybacked]:
        return sorted(self._by_target.get(target, {}).values(), key=lambda piece: piece.source)

    def speaks_of(self, target: str) -> bool:
        return target in self._by_target

    def targets(self, source: str) -> frozenset[str]:
        return self._by_source.get(source, frozenset())

    def fresh(self, target: str, max_age_s: float | None = None) -> list[Piggybacked]:
        now = self.clock()
        return [piece for piece in self.pieces(target)
                if now - piece.at <= (max_age_s if max_age_s is not None else piece.max_age_s)]

    def output(self, target: str, max_age_s: float | None = None) -> str | None:
        """The fresh data for `target` as agent text, with the sources section; None: nothing fresh."""
        fresh = self.fresh(target, max_age_s)
        if not fresh:
            return None
        now = self.clock()
        sources = "".join(f"{piece.source} {max(now - piece.at, 0.0):.1f}\n" for piece in fresh)
        return "".join(piece.text for piece in fresh) + f"<<<{SOURCES_SECTION}:sep(32)>>>\n" + sources

    def why_none(self, target: str) -> str:
        pieces = self.pieces(target)
        if not pieces:
            return (f"no host's output holds piggyback data for {target}: is the hypervisor or frontend that "
                    "runs it monitored, and does it call it by this name?")
        newest = max(pieces, key=lambda piece: piece.at)
        return (f"the piggyback data for {target} is too old: the newest came from {newest.source} "
                f"{self.clock() - newest.at:.0f} s ago")


LABELS_HEADER = "<<<labels:sep(0)>>>\n"
MAX_LABELS = 100


def labels_in(text: str) -> dict[str, str]:
    """The labels a host's piggyback data gives it: `<<<labels:sep(0)>>>` and a JSON object on
    the next line (the Checkmk agent's form), later ones adding to earlier ones."""
    labels: dict[str, str] = {}
    start = text.find(LABELS_HEADER)
    while start != -1:
        begin = start + len(LABELS_HEADER)
        end = text.find("\n", begin)
        try:
            document = json.loads(text[begin:end if end != -1 else len(text)])
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, dict):
            for key, value in list(document.items())[:MAX_LABELS]:
                if isinstance(value, str | int | float) and len(str(key)) <= 100:
                    labels[str(key)] = str(value)[:1000]
        start = text.find(LABELS_HEADER, begin)
    return labels


class PiggybackTransport:
    """The transport of a host with address `piggyback`: its data is what other hosts said of it."""

    def __init__(self, host: HostConfig, hub: PiggybackHub) -> None:
        self.name = host.name
        self.hub = hub
        self.max_age_s = host.opts.piggyback_max_age_s

    async def fetch(self) -> AgentOutput:
        text = self.hub.output(self.name, self.max_age_s)
        if text is None:
            raise AgentFailed(self.hub.why_none(self.name))
        data = text.encode()
        return AgentOutput(data, limit=max(len(data), 1))

    async def close(self) -> None:
        return None
