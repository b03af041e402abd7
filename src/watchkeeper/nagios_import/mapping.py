"""Nagios objects to Watchkeeper hosts and active services, with a report of everything that
has no equivalent, so nothing is dropped silently.

    host        -> a host without agent (address `none`), its address, alias, attempts and
                   retry interval, notes and URLs; its check_command becomes a "Host check"
                   service that decides UP/DOWN; its host groups become the label `hostgroups`
    service     -> an active service on each host of host_name and hostgroup_name (lists
                   with `*` and `!exclusions`), its command with $ARGn$ and $USERn$ filled in
    servicegroup -> the `groups` of its member services (and of services naming it)
    command     -> the argv of the services that use it; a command that needs a shell
                   (pipes, redirections, `;`, `&&`) is reported, not guessed at
    contact     -> a notification contact (with its email) on the default mail channel
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TypeVar

from watchkeeper.errors import ConfigError
from watchkeeper.model.active_checks import ActiveCheck
from watchkeeper.model.hosts import HOST_NAME, HostConfig
from watchkeeper.model.macros import check_macros
from watchkeeper.nagios_import.objects import NagiosConfig, NagiosObject, resolve_templates

T = TypeVar("T")

HOST_CHECK = "Host check"
_OPERATOR_CHARS = set("();<>|&")
_MAPPED = {
    "host": {"host_name", "alias", "address", "display_name", "check_command", "check_interval", "retry_interval",
             "max_check_attempts", "hostgroups", "notifications_enabled", "check_period", "notification_period",
             "notification_interval", "notification_options", "contact_groups", "contacts", "notes", "notes_url",
             "action_url", "icon_image"},
    "service": {"host_name", "hostgroup_name", "service_description", "check_command", "check_interval",
                "retry_interval", "max_check_attempts", "notifications_enabled", "check_period",
                "notification_period", "notification_interval", "notification_options", "contact_groups",
                "contacts", "is_volatile", "active_checks_enabled", "passive_checks_enabled", "check_freshness",
                "freshness_threshold", "servicegroups"},
    "hostgroup": {"hostgroup_name", "alias", "members", "hostgroup_members"},
    "servicegroup": {"servicegroup_name", "alias", "members", "servicegroup_members"},
    "command": {"command_name", "command_line"},
    "contact": {"contact_name", "alias", "email"},
}
# Read to decide something, but with no Watchkeeper equivalent of their own: reported once.
_APPROXIMATED = {
    "check_period": "checks run around the clock",
    "notification_period": "Watchkeeper's notification rules decide when to notify (watchkeeper notify rule)",
    "notification_interval": "Watchkeeper's notification rules decide repeats (--renotify)",
    "notification_options": "Watchkeeper's notification rules decide which states are told",
    "contact_groups": "contacts are imported; who gets what is set by notification rules",
    "contacts": "contacts are imported; who gets what is set by notification rules",
    "is_volatile": "every result is a result; there is no volatile mode",
}
# Settings for what Watchkeeper always does: nothing is lost by leaving them out.
_ALWAYS = {
    "process_perf_data": "performance data always becomes metrics",
    "retain_status_information": "states are always kept in the store",
    "retain_nonstatus_information": "states are always kept in the store",
    "flap_detection_enabled": "flapping is always detected",
    "parallelize_check": "checks always run in parallel",
    "obsess_over_service": "results are always in Livestatus and the store for other tools",
    "obsess_over_host": "results are always in Livestatus and the store for other tools",
}
DEFAULT_INTERVAL_LENGTH = 60.0


@dataclass(slots=True)
class ImportReport:
    hosts: list[HostConfig] = field(default_factory=list)
    checks: list[ActiveCheck] = field(default_factory=list)
    contacts: dict[str, str] = field(default_factory=dict)
    """name -> email"""
    silenced: list[tuple[str, str]] = field(default_factory=list)
    """(host, service) with notifications_enabled 0; service "" for the host."""
    problems: list[str] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=dict)
    """Objects Nagios sees (templates applied, `register 0` left out), by type."""
    files: int = 0
    unreadable: list[str] = field(default_factory=list)
    """Named files that could not be read: nothing is imported then."""
    unmapped: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """`type.directive` or `type` -> where it occurs."""
    notes: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        total = sum(self.read.values())
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.read.items()))
        out = [f"read {total} objects from {self.files} files ({kinds}); imported {len(self.hosts)} hosts, "
               f"{len(self.checks)} services (one per host a service applies to), {len(self.contacts)} contacts"
               + (f"; notifications off for {len(self.silenced)}" if self.silenced else "")
               + ("; the lines below say why the rest is not imported" if self.problems or self.unmapped else "")]
        for what in self.unreadable:
            out.append(f"cannot read {what}; nothing is imported until Nagios itself could read it")
        for problem in self.problems:
            out.append(f"not imported: {problem}")
        for what, places in sorted(self.unmapped.items()):
            reason = self.notes.get(what, "no equivalent in Watchkeeper; left out")
            count = f"{len(places)} time{'s' if len(places) > 1 else ''}"
            out.append(f"not mapped: {what} ({count}, first at {places[0]}): {reason}")
        return out


def map_config(config: NagiosConfig) -> ImportReport:
    report = ImportReport(files=len(config.files), unreadable=list(config.unreadable))
    report.problems.extend(config.problems)
    objects, problems = resolve_templates(config.objects)
    report.problems.extend(problems)
    for obj in objects:
        report.read[obj.type] = report.read.get(obj.type, 0) + 1
    interval_length = _float(config.main.get("interval_length", ["60"])[-1], DEFAULT_INTERVAL_LENGTH)
    by_type: dict[str, list[NagiosObject]] = defaultdict(list)
    for obj in objects:
        by_type[obj.type].append(obj)
        known = _MAPPED.get(obj.type)
        if known is None:
            report.unmapped[obj.type].append(obj.where)
            report.notes.setdefault(obj.type, "object type with no equivalent in Watchkeeper; left out")
            continue
        for directive in obj.directives:
            if directive in _ALWAYS:
                continue
            if directive not in known or directive in _APPROXIMATED:
                key = f"{obj.type}.{directive}"
                report.unmapped[key].append(obj.where)
                if directive in _APPROXIMATED:
                    report.notes[key] = _APPROXIMATED[directive]
    commands = {o.directives.get("command_name", ""): o.directives.get("command_line", "")
                for o in by_type["command"]}
    groups = _host_groups(by_type["hostgroup"], by_type["host"])
    service_groups = _service_groups(by_type["servicegroup"])
    hosts: dict[str, NagiosObject] = {}
    for obj in by_type["host"]:
        _map_host(obj, groups, commands, config.resources, interval_length, report, hosts)
    for obj in by_type["service"]:
        _map_service(obj, hosts, groups, service_groups, commands, config.resources, interval_length, report)
    for obj in by_type["contact"]:
        name = obj.directives.get("contact_name", "")
        if name and obj.directives.get("email"):
            report.contacts[name] = obj.directives["email"]
    return report


def _host_groups(groups: list[NagiosObject], hosts: list[NagiosObject]) -> dict[str, set[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    nested: dict[str, set[str]] = defaultdict(set)
    for group in groups:
        name = group.directives.get("hostgroup_name", "")
        members[name].update(_names(group.directives.get("members", "")))
        nested[name].update(_names(group.directives.get("hostgroup_members", "")))
    for host in hosts:
        for name in _names(host.directives.get("hostgroups", "")):
            members[name].add(host.directives.get("host_name", ""))
    _include_nested(members, nested)
    return members


def _include_nested(members: dict[str, set[T]], nested: dict[str, set[str]]) -> None:
    """Add to each group the members of the groups it names (`hostgroup_members`,
    `servicegroup_members`), through any depth, without looping forever on a cycle."""
    for name in list(nested):
        seen, todo = {name}, list(nested[name])
        while todo:
            inner = todo.pop()
            if inner not in seen:
                seen.add(inner)
                members[name] |= members.get(inner, set())
                todo.extend(nested.get(inner, ()))


def _service_groups(groups: list[NagiosObject]) -> dict[tuple[str, str], set[str]]:
    """(host, service) -> the service groups whose `members` name it, nested groups included."""
    members: dict[str, set[tuple[str, str]]] = defaultdict(set)
    nested: dict[str, set[str]] = defaultdict(set)
    for group in groups:
        name = group.directives.get("servicegroup_name", "")
        words = _names(group.directives.get("members", ""))
        members[name].update(zip(words[::2], words[1::2], strict=False))
        nested[name].update(_names(group.directives.get("servicegroup_members", "")))
    _include_nested(members, nested)
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for name, pairs in members.items():
        for pair in pairs:
            found[pair].add(name)
    return found


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _float(text: str, default: float) -> float:
    try:
        return float(text)
    except ValueError:
        return default


def _map_host(obj: NagiosObject, groups: dict[str, set[str]], commands: dict[str, str], resources: dict[str, str],
              interval_length: float, report: ImportReport, hosts: dict[str, NagiosObject]) -> None:
    d = obj.directives
    name = d.get("host_name", "")
    if not HOST_NAME.fullmatch(name):
        report.problems.append(f"host {name!r} at {obj.where}: not a valid Watchkeeper host name")
        return
    member_of = sorted(group for group, names in groups.items() if name in names)
    options: dict[str, object] = {"address": d.get("address") or name}
    if d.get("alias") and d["alias"] != name:
        options["alias"] = d["alias"]
    if member_of:
        options["labels"] = {"hostgroups": ",".join(member_of)}
    for key in ("notes", "notes_url", "action_url", "icon_image"):
        if d.get(key):
            options[key] = d[key]
    interval = _float(d.get("check_interval", "5"), 5.0) * interval_length
    try:
        host = HostConfig(name, "none", max(interval, 1.0), options)
    except ConfigError as exc:
        report.problems.append(f"host {name} at {obj.where}: {exc}")
        return
    report.hosts.append(host)
    hosts[name] = obj
    if d.get("notifications_enabled", "1") == "0":
        report.silenced.append((name, ""))
    if d.get("check_command"):
        check = _check(obj, name, HOST_CHECK, commands, resources, interval_length, report, host_check=True)
        if check is not None:
            report.checks.append(check)


def _map_service(obj: NagiosObject, hosts: dict[str, NagiosObject], groups: dict[str, set[str]],
                 service_groups: dict[tuple[str, str], set[str]], commands: dict[str, str],
                 resources: dict[str, str], interval_length: float, report: ImportReport) -> None:
    d = obj.directives
    description = d.get("service_description", "")
    targets = _targets(d.get("host_name", ""), d.get("hostgroup_name", ""), hosts, groups)
    if not targets:
        report.problems.append(f"service {description!r} at {obj.where}: applies to no host")
    own = set(_names(d.get("servicegroups", "")))
    for host in sorted(targets):
        member_of = tuple(sorted(own | service_groups.get((host, description), set())))
        check = _check(obj, host, description, commands, resources, interval_length, report, groups=member_of)
        if check is not None:
            report.checks.append(check)
            if d.get("notifications_enabled", "1") == "0":
                report.silenced.append((host, description))


def _targets(host_names: str, group_names: str, hosts: dict[str, NagiosObject],
             groups: dict[str, set[str]]) -> set[str]:
    chosen: set[str] = set()
    excluded: set[str] = set()
    for entry in _names(host_names):
        bucket = excluded if entry.startswith("!") else chosen
        pattern = entry.lstrip("!")
        bucket.update(hosts if pattern == "*" else {h for h in hosts if fnmatch.fnmatchcase(h, pattern)}
                      if "*" in pattern or "?" in pattern else {pattern} & set(hosts))
    for entry in _names(group_names):
        bucket = excluded if entry.startswith("!") else chosen
        group = entry.lstrip("!")
        bucket.update(set(hosts) if group == "*" else groups.get(group, set()) & set(hosts))
    return chosen - excluded


def _check(obj: NagiosObject, host: str, name: str, commands: dict[str, str], resources: dict[str, str],
           interval_length: float, report: ImportReport, host_check: bool = False,
           groups: tuple[str, ...] = ()) -> ActiveCheck | None:
    d = obj.directives
    where = f"{'host check of ' + host if host_check else repr(name) + ' on ' + host} at {obj.where}"
    passive = d.get("active_checks_enabled", "1") == "0" and d.get("passive_checks_enabled", "1") != "0"
    interval = _float(d.get("check_interval", "5"), 5.0) * interval_length
    retry = _float(d.get("retry_interval", "1"), 1.0) * interval_length
    attempts = int(_float(d.get("max_check_attempts", "3"), 3.0))
    try:
        if passive:
            fresh = _float(d.get("freshness_threshold", "0"), 0.0) if d.get("check_freshness") == "1" else 0.0
            return ActiveCheck(host, name, passive=True, freshness_s=max(fresh, 10.0) if fresh else 0.0,
                               max_attempts=max(1, min(attempts, 100)), groups=groups)
        argv = command_argv(d.get("check_command", ""), commands, resources)
        return ActiveCheck(host, name, tuple(argv), interval_s=max(1.0, min(interval, 86400.0)),
                           retry_interval_s=max(1.0, min(retry, 86400.0)), max_attempts=max(1, min(attempts, 100)),
                           host_check=host_check, groups=groups)
    except ConfigError as exc:
        report.problems.append(f"{where}: {exc}")
        return None


def _needs_shell(text: str) -> bool:
    """Pipes, redirections, `;`, `&&` outside quotes, or command substitution."""
    if "`" in text or "$(" in text:
        return True
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return any(token and set(token) <= _OPERATOR_CHARS for token in lexer)
    except ValueError:
        return False  # unbalanced quotes: reported when the words are split


def command_argv(check_command: str, commands: dict[str, str], resources: dict[str, str]) -> list[str]:
    """`check_x!a!b` -> argv: $ARGn$ and $USERn$ filled in as text (as Nagios does), then split
    like a shell would split words; host and service macros stay for run time."""
    if not check_command:
        raise ConfigError("it has no check_command")
    name, *args = check_command.split("!")
    line = commands.get(name.strip())
    if line is None:
        raise ConfigError(f"command {name.strip()!r} is not defined")
    values = {f"ARG{i}": value for i, value in enumerate(args, 1)} | resources
    text = re.sub(r"\$(ARG\d+|USER\d+)\$", lambda m: values.get(m[1], "" if m[1].startswith("ARG") else m[0]), line)
    if _needs_shell(text):
        raise ConfigError(f"command {name.strip()!r} needs a shell ({line!r}); wrap it in a script and import that")
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise ConfigError(f"command {name.strip()!r} does not split into words: {exc}") from None
    if not argv:
        raise ConfigError(f"command {name.strip()!r} is empty")
    check_macros(argv)
    return argv
