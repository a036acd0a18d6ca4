"""Generated requests against every operation of the OpenAPI document (schemathesis).

Bounded (a few examples per operation) so it runs in every test run: no
answer is a server error, and every answer has a status, content type and
body its operation documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks

import retrograde
from retrograde.commands import tokens
from retrograde.model.tokens import Role
from retrograde.server.app import create_app
from retrograde.server.settings import ServerSettings
from retrograde.storage.connect import open_store
from tests.backends import sqlite_url
from tests.server.conftest import stack_text

CHECKS = [
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    """The app over a store holding one applied deployment, and an admin's bearer header."""
    tmp = tmp_path_factory.mktemp("fuzz")
    store = open_store(sqlite_url(tmp))
    ctx = retrograde.Context(store=store, principal="seed", cwd=tmp)
    (tmp / "stack.yaml").write_text(stack_text("true"), encoding="utf-8")
    retrograde.apply(ctx, Path("stack.yaml"))
    retrograde.checkpoint(ctx, "v1")
    _, secret = tokens.create_token(ctx, "fuzzer", Role.ADMIN)
    app = create_app(store, ServerSettings(stacks_root=tmp / "uploads", serialise_writes=True))
    try:
        yield app, {"Authorization": f"Bearer {secret}"}
    finally:
        store.close()


@pytest.mark.fuzz
def test_no_server_error_and_every_answer_as_documented(api: tuple[Any, dict[str, str]]) -> None:
    """Each generated request to each operation gets a documented answer, never a 5xx."""
    app, headers = api
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        run_examples(operation, headers)


def run_examples(operation: Any, headers: dict[str, str]) -> None:
    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=True,
        database=None,
    )
    def examples(case: Any) -> None:
        if case.method == "DELETE" and case.path == "/api/tokens/{name}":
            case.path_parameters = {"name": "not-the-fuzzer"}
        case.call_and_validate(headers=headers, checks=CHECKS)

    examples()
