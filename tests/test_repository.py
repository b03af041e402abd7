"""The repository stands alone: a user's clone has nothing beside it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

OUTSIDE = re.compile(r"\.\./" + "shared|parents?\\b[^\\n]{0,40}[\"']" + "shared[\"'/]")
"""A path into the workspace's `shared` folder beside the repository, written out or built
from the repository's parent."""


def test_nothing_in_the_repository_refers_to_the_workspace_beside_it() -> None:
    offenders: list[str] = []
    for folder in ("src", "tests", "bench", "scripts", ".ci"):
        for path in (REPO / folder).rglob("*"):
            if not path.is_file() or "fixtures" in path.parts or path.suffix in (".pyc", ".png"):
                continue
            text = path.read_text(errors="replace")
            offenders.extend(f"{path.relative_to(REPO)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
                             for m in OUTSIDE.finditer(text))
    assert offenders == []


def test_every_real_output_says_where_it_came_from() -> None:
    outputs = [*REPO.glob("tests/**/fixtures/**/*.txt"), *(REPO / "tests/agent_outputs").glob("*.txt")]
    assert len(outputs) > 100
    undocumented = [str(path.relative_to(REPO)) for path in outputs
                    if not path.with_suffix(".source.md").exists() and not _in_documented_folder(path)]
    assert undocumented == []


def _in_documented_folder(path: Path) -> bool:
    return any((parent / "SOURCE.md").exists() for parent in path.parents if "fixtures" in parent.parts)
