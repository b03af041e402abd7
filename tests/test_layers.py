"""Imports point inward: each package may import only the packages listed for it here, and the
table is the one in docs/architecture.md. A new arrow outward fails this test, not a review."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "watchkeeper"

LEAVES = {"errors", "paths", "escapees"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "paths": {"errors"},
    "escapees": set(),
    "model": {"errors"},
    "checkapi": {"model"},
    "plugins": {"checkapi"},
    "agent": set(),
    "collect": {"model", "checkapi", "agent"} | LEAVES,
    "engine": {"model", "checkapi", "collect.sections", "collect.transport"} | LEAVES,
    "store": {"model"} | LEAVES,
    "active": {"model", "checkapi", "collect"} | LEAVES,
    "notify": {"model", "store"} | LEAVES,
    "sink": {"model", "checkapi", "notify", "store"} | LEAVES,
    "schedule": {"model", "checkapi", "collect", "engine", "store", "active", "notify", "sink"} | LEAVES,
    "livestatus": {"model", "checkapi", "store", "notify", "(root)"} | LEAVES,
    "web": {"model", "checkapi", "engine", "store", "notify", "patching", "(root)"} | LEAVES,
    "nagios_import": {"model"} | LEAVES,
    "tsdb": {"model", "store"} | LEAVES,
    "patching": {"model", "store", "notify"} | LEAVES,
    "inventory": {"model", "store"} | LEAVES,
    "daemon": {"model", "store", "notify", "sink", "schedule", "livestatus", "web", "tsdb", "inventory"} | LEAVES,
    "cli": {"model", "checkapi", "collect", "engine", "store", "active", "notify", "nagios_import", "plugins",
            "agent", "daemon", "tsdb", "patching", "inventory", "(root)"} | LEAVES,
}
"""Package -> what it may import. `collect.sections` names one module of a package."""


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "watchkeeper":
                found.add(".".join(parts[1:3]) if len(parts) > 1 else "(root)")
    return found


def package_of(path: Path) -> str:
    return path.relative_to(SOURCE).parts[0].removesuffix(".py")


def test_every_package_imports_only_what_the_layering_allows() -> None:
    wrong = []
    for path in sorted(SOURCE.rglob("*.py")):
        package = package_of(path)
        if package == "__init__":
            continue
        allowed = ALLOWED.get(package)
        assert allowed is not None, f"{package} is a new package: give it a line in ALLOWED and in docs/architecture.md"
        for target in imports(path):
            top = target.split(".")[0]
            if top == package or target in allowed or top in allowed:
                continue
            wrong.append(f"{path.relative_to(SOURCE)} imports watchkeeper.{target}")
    assert not wrong, "imports that point outward:\n" + "\n".join(wrong)


def test_the_model_imports_nothing_of_ours_but_errors() -> None:
    for path in (SOURCE / "model").rglob("*.py"):
        assert imports(path) <= {"errors", "model"} | {f"model.{p.stem}" for p in (SOURCE / "model").glob("*.py")}


def test_the_architecture_page_states_the_same_rules() -> None:
    page = (SOURCE.parents[1] / "docs" / "architecture.md").read_text()
    for package, allowed in ALLOWED.items():
        if package in LEAVES or package == "agent":
            continue
        line = next((line for line in page.splitlines() if line.startswith(f"| `{package}` |")), None)
        assert line is not None, f"docs/architecture.md has no row for {package}"
        stated = {name.strip("` ") for name in line.split("|")[2].split(",") if name.strip()}
        assert stated == (allowed - LEAVES - {"(root)"}) | ({"watchkeeper"} if "(root)" in allowed else set()), package


def test_nothing_imports_the_command_line_entry_point() -> None:
    importers = [path.relative_to(SOURCE) for path in SOURCE.rglob("*.py")
                 if "cli.main" in imports(path) and path.name != "main.py"]
    assert importers == []
