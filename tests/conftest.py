"""Shared test helpers: the real-output corpus, and how real components may (not) skip."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from watchkeeper.checkapi import Metric, Pending, Result, StringTable
from watchkeeper.collect.sections import split_sections

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
IN_CI = os.environ.get("CI") == "true"


def corpus(relative: str) -> Path:
    path = CORPUS / relative
    if not path.exists():
        missing(f"the shared corpus file {path}")
    return path


def missing(what: str) -> None:
    """A real component is not there: in CI that fails the test, elsewhere it skips it."""
    message = f"{what} is not available"
    if IN_CI:
        pytest.fail(f"{message}; CI must have it (scripts/test installs it)")
    pytest.skip(message)


def section_from_file(relative: str, name: str, header_options: str = "") -> StringTable:
    """Put a real command output behind a section header and run it through the splitter."""
    body = corpus(relative).read_bytes()
    split = split_sections(f"<<<{name}{header_options}>>>\n".encode() + body)
    return split.sections.get(name, [])


def agent_section(relative: str, name: str) -> StringTable:
    """One section of a real agent output in the corpus, through the production splitter."""
    return split_sections(corpus(relative).read_bytes()).sections[name]


def results(outputs: Iterable[Result | Metric | Pending]) -> list[Result]:
    """Only the judgements of a check's output, in order."""
    return [output for output in outputs if isinstance(output, Result)]
