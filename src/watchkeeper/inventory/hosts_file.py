"""Hosts listed in a file, YAML or CSV (by its name's ending):

    # hosts.yaml                                # hosts.csv
    hosts:                                      name,address,interval_s,labels
      - name: web01                             web01,ssh://root@web01,,role=web;site=b
        address: ssh://root@web01               sw1,snmp://sw1,300,role=switch
        labels: {role: web, site: b}
      - name: sw1
        address: snmp://sw1
        interval_s: 300
        options: {snmp_credentials: /etc/watchkeeper/sw1.snmp}

A row that cannot be a host is left out and named; the others are read. A file that cannot
be read or parsed, or that lists no hosts at all, changes nothing (a half-written file must
not retire every host): to retire them all, write `hosts: []`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from watchkeeper.errors import ConfigError
from watchkeeper.model.hosts import DEFAULT_INTERVAL_S, HostConfig

MAX_BYTES = 64 * 1024 * 1024
MAX_PROBLEMS = 20


@dataclass(slots=True)
class HostsFile:
    hosts: dict[str, HostConfig] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """Rows left out, each with its number (or position) and why."""


def read_hosts_file(path: Path, labels: dict[str, str]) -> HostsFile:
    """Raises ConfigError when the file as a whole cannot be used."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); its hosts are kept as they are") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES >> 20} MiB; its hosts are kept as they are")
    text = raw.decode("utf-8", errors="replace")
    rows = _csv_rows(text) if path.suffix.lower() == ".csv" else _yaml_rows(path, text)
    found = HostsFile()
    if rows is None:  # `hosts: []`: the file says there are none
        return found
    for number, row in rows:
        try:
            host = _host(row, labels)
        except ConfigError as exc:
            _problem(found, f"{number}: {exc}")
            continue
        if host.name in found.hosts:
            _problem(found, f"{number}: {host.name} is listed twice; the first is kept")
            continue
        found.hosts[host.name] = host
    if not rows:
        raise ConfigError(f"{path}: lists no hosts; its hosts are kept as they are (write `hosts: []` in a "
                          "YAML file to retire them all)")
    return found


def _problem(found: HostsFile, text: str) -> None:
    if len(found.problems) < MAX_PROBLEMS:
        found.problems.append(text)
    elif len(found.problems) == MAX_PROBLEMS:
        found.problems.append("... and more rows left out")


def _yaml_rows(path: Path, text: str) -> list[tuple[str, Any]] | None:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not YAML ({str(exc).splitlines()[0]}); its hosts are kept as they are") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply; its hosts are kept as they are") from None
    if isinstance(document, dict) and "hosts" in document:
        entries = document["hosts"]
        if entries == []:
            return None
    else:
        entries = document
    if entries is None:  # an empty file, or `hosts:` with nothing under it
        return []
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a list of hosts (or `hosts:` with one); its hosts are kept as they are")
    return [(f"host {index}", entry) for index, entry in enumerate(entries, 1)]


def _csv_rows(text: str) -> list[tuple[str, Any]]:
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[str, Any]] = []
    header: list[str] | None = None
    for number, cells in enumerate(reader, 1):
        if not cells or not "".join(cells).strip() or cells[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in cells]
            if "name" not in header:
                raise ConfigError("the first row of a CSV file names its columns: name,address[,interval_s][,labels]")
            continue
        entry: dict[str, Any] = dict(zip(header, (cell.strip() for cell in cells), strict=False))
        if entry.get("labels"):
            entry["labels"] = dict(pair.partition("=")[::2] for pair in str(entry["labels"]).split(";") if pair)
        rows.append((f"line {number}", entry))
    return rows


def _host(entry: Any, labels: dict[str, str]) -> HostConfig:
    if not isinstance(entry, dict):
        raise ConfigError("not a host (a mapping with name and address)")
    unknown = set(entry) - {"name", "address", "interval_s", "labels", "options"}
    if unknown:
        raise ConfigError(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    name, address = entry.get("name"), entry.get("address")
    if not isinstance(name, str) or not name:
        raise ConfigError("no name")
    if not isinstance(address, str) or not address:
        raise ConfigError(f"{name} has no address (local, ssh://user@host, tcp://host, snmp://device, piggyback...)")
    interval = entry.get("interval_s") or DEFAULT_INTERVAL_S
    try:
        interval = float(interval)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: interval_s {interval!r} is not a number") from None
    options = entry.get("options") or {}
    if not isinstance(options, dict):
        raise ConfigError(f"{name}: options must be a mapping")
    own = entry.get("labels") or {}
    if not isinstance(own, dict):
        raise ConfigError(f"{name}: labels must be a mapping")
    options = {**options, "labels": {**labels, **{str(k): str(v) for k, v in own.items()}}}
    return HostConfig(name, address, interval, options)
