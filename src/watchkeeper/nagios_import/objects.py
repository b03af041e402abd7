"""Nagios object configuration read as Nagios reads it: the main file's `cfg_file`, `cfg_dir`
(every `*.cfg` below it) and `resource_file` ($USERn$), then `define TYPE { ... }` blocks.

A line that ends in an odd number of backslashes continues on the next line, as in Nagios
(since 3.0): the backslash is dropped and the next line appended (`\\\\` at the end is one
literal backslash, not a continuation).

Templates are resolved here: `use` names one or more templates (the first listed wins on a
conflict), a value `null` unsets what a template gave, a value starting with `+` adds to the
inherited list, and `register 0` makes an object a template only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from watchkeeper.errors import ConfigError

_DEFINE = re.compile(r"define\s+(\w+)\s*\{\s*$")
# Directives whose values add up through templates with `+` (lists of names).
ADDITIVE = {"hostgroups", "hostgroup_name", "host_name", "contact_groups", "contacts", "servicegroups",
            "members", "parents"}


@dataclass(slots=True)
class NagiosObject:
    type: str
    directives: dict[str, str]
    where: str
    """file:line of its `define`, for the report."""


@dataclass(slots=True)
class NagiosConfig:
    objects: list[NagiosObject] = field(default_factory=list)
    main: dict[str, list[str]] = field(default_factory=dict)
    """Main-file settings (a setting may repeat, like cfg_file)."""
    resources: dict[str, str] = field(default_factory=dict)
    """$USER1$ ... from resource files."""
    problems: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """The object files read."""
    unreadable: list[str] = field(default_factory=list)
    """Files and directories the configuration names that could not be read: Nagios would not start."""


def read_config(main_file: Path) -> NagiosConfig:
    config = NagiosConfig()
    try:
        text = main_file.read_text(errors="replace")
    except OSError as exc:
        raise ConfigError(f"cannot read {main_file}: {exc.strerror}") from exc
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        config.main.setdefault(key.strip(), []).append(value.strip())
    base = main_file.parent
    files: list[Path] = []
    for name in config.main.get("cfg_file", []):
        files.append(_relative(base, name))
    for name in config.main.get("cfg_dir", []):
        directory = _relative(base, name)
        if not directory.is_dir():
            config.unreadable.append(f"cfg_dir {directory}: no such directory")
            continue
        files.extend(sorted(directory.rglob("*.cfg")))
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError as exc:
            config.unreadable.append(f"cfg_file {path}: {exc.strerror}")
            continue
        config.objects.extend(parse_objects(text, str(path)))
        config.files.append(str(path))
    for name in config.main.get("resource_file", []):
        path = _relative(base, name)
        try:
            for line in path.read_text(errors="replace").splitlines():
                match = re.fullmatch(r"\s*\$(USER\d+)\$\s*=\s*(.*?)\s*", line)
                if match:
                    config.resources[match[1]] = match[2]
        except OSError as exc:
            config.unreadable.append(f"resource_file {path}: {exc.strerror}")
    return config


def _relative(base: Path, name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else base / path


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(number of its first line, text) with continued lines joined as Nagios joins them."""
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        raw = raw.rstrip("\r")
        start, prefix = pending if pending is not None else (number, "")
        line = prefix + raw
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            pending = (start, line[:-1])
            continue
        pending = None
        joined.append((start, line))
    if pending is not None:
        joined.append(pending)
    return joined


def parse_objects(text: str, source: str) -> list[NagiosObject]:
    objects: list[NagiosObject] = []
    current: NagiosObject | None = None
    for number, raw in logical_lines(text):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        if current is None:
            match = _DEFINE.match(line)
            if match is None:
                if line.startswith("define"):
                    raise ConfigError(f"{source}:{number}: expected `define TYPE {{` on one line, got {line!r}")
                # The line itself is not shown: cfg_file may name any file, /etc/shadow too.
                raise ConfigError(f"{source}:{number}: text outside any `define` block; is this a Nagios object "
                                  "configuration file?")
            current = NagiosObject(match[1], {}, f"{source}:{number}")
            continue
        if line == "}":
            objects.append(current)
            current = None
            continue
        if line.endswith("}"):  # a last directive on the closing line
            line = line[:-1].strip()
            _directive(current, line)
            objects.append(current)
            current = None
            continue
        _directive(current, line)
    if current is not None:
        raise ConfigError(f"{current.where}: this `define {current.type}` is never closed with `}}`")
    return objects


def _directive(target: NagiosObject, line: str) -> None:
    parts = line.split(None, 1)
    target.directives[parts[0]] = parts[1].strip() if len(parts) > 1 else ""


def _strip_comment(line: str) -> str:
    """`;` starts a comment unless escaped as `\\;`; `#` only at the start of a line."""
    if line.lstrip().startswith("#"):
        return ""
    out = []
    escaped = False
    for char in line:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ";":
            break
        else:
            out.append(char)
    if escaped:
        out.append("\\")
    return "".join(out)


def resolve_templates(objects: list[NagiosObject]) -> tuple[list[NagiosObject], list[str]]:
    """Objects with their templates applied; templates themselves (register 0) are left out."""
    templates = {(o.type, o.directives["name"]): o for o in objects if "name" in o.directives}
    problems: list[str] = []
    resolved: dict[int, dict[str, str]] = {}

    def flatten(obj: NagiosObject, trail: tuple[str, ...]) -> dict[str, str]:
        if id(obj) in resolved:
            return resolved[id(obj)]
        inherited: dict[str, str] = {}
        for name in reversed([n.strip() for n in obj.directives.get("use", "").split(",") if n.strip()]):
            template = templates.get((obj.type, name))
            if template is None:
                problems.append(f"{obj.where}: template {name!r} ({obj.type}) is not defined")
                continue
            if name in trail:
                problems.append(f"{obj.where}: templates use each other in a loop: {' -> '.join(trail + (name,))}")
                continue
            inherited.update(flatten(template, trail + (name,)))  # earlier `use` entries win: applied last
        merged = dict(inherited)
        for key, value in obj.directives.items():
            if key in ("use", "name", "register"):
                continue
            if value.startswith("+") and key in ADDITIVE:
                own = value[1:]
                merged[key] = f"{inherited[key]},{own}" if inherited.get(key) else own
            else:
                merged[key] = value
        result = {key: value for key, value in merged.items() if value != "null"}
        resolved[id(obj)] = result
        return result

    real = []
    for obj in objects:
        directives = flatten(obj, (obj.directives.get("name", ""),))
        if obj.directives.get("register", "1").strip() == "0":
            continue
        real.append(NagiosObject(obj.type, directives, obj.where))
    return real, problems
