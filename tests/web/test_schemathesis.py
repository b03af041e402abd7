"""Schemathesis against the OpenAPI document, over real HTTP: whatever it sends, no 500s, and
every answer fits the document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from tests.web.served import seed, served
from watchkeeper.store.web_tables import WebTables


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    database = tmp_path_factory.mktemp("schemathesis") / "wk.db"
    store = seed(database)
    _, token = WebTables(store).add_token("fuzz", "admin")
    with served(database) as url:
        yield url, token


def test_the_api_never_fails_and_always_answers_as_documented(server: tuple[str, str]) -> None:
    url, token = server
    api = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]
    failures: list[str] = []
    operations = 0
    for found in api.get_all_operations():
        assert isinstance(found, Ok), f"the document has an operation schemathesis cannot read: {found.err()}"
        operation = found.ok()
        operations += 1
        # Valid requests must get documented answers; invalid ones (negative mode) must still never get a 500.
        for mode, wanted in ((GenerationMode.POSITIVE, checks), (GenerationMode.NEGATIVE, [not_a_server_error])):

            try:
                _fuzzer(operation.as_strategy(generation_mode=mode), url, headers, wanted)()
            except Exception as exc:  # every operation is tried; all failures are reported together
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert operations >= 25
    assert not failures, "\n\n".join(failures)


def _fuzzer(strategy: Any, url: str, headers: dict[str, str], checks: list[Any]) -> Any:
    @given(case=strategy)
    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        case.call_and_validate(base_url=url, headers=headers, checks=checks)

    return fuzz
