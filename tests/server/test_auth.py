"""Authentication and roles: nothing answers without a credential, roles gate every route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import MakeToken

WRITES = {"post", "put", "patch", "delete"}


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (method, path with its parameters filled in, operation) of the document."""
    for path, item in doc["paths"].items():
        filled = re.sub(r"\{[^}]+\}", "1", path)
        for method, operation in item.items():
            yield method, filled, operation


@pytest.fixture
def document(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    answer = client.get("/api/openapi.json", headers=admin)
    assert answer.status_code == 200
    doc: dict[str, Any] = answer.json()
    return doc


def test_every_operation_declares_its_role_and_plan_is_operator(document: dict[str, Any]) -> None:
    """x-role is reader, operator or admin on every operation; plan needs an operator."""
    roles = {(m, p): op.get("x-role") for m, p, op in operations(document)}
    assert len(roles) > 20
    assert set(roles.values()) == {"reader", "operator", "admin"}
    assert roles[("get", "/api/plan")] == "operator"
    assert roles[("post", "/api/tokens")] == "admin"
    assert not [p for p in document["paths"] if not p.startswith("/api/")]


def test_every_route_is_401_without_a_credential(client: TestClient, document: dict) -> None:
    """Each operation, given a malformed body and no token, answers 401 in the error shape."""
    for method, path, _ in operations(document):
        answer = client.request(method, path, content=b"{not json", headers={"X-Principal": "x"})
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.json()["error"]["kind"] == "unauthorized"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    for method, path in (("get", "/api/openapi.json"), ("get", "/api/no-such-route")):
        assert client.request(method, path).status_code == 401


def test_a_reader_gets_403_on_every_writing_route(
    client: TestClient, document: dict, reader: dict[str, str]
) -> None:
    """Every operation needing more than reader refuses a reader token before its input."""
    above = [(m, p) for m, p, op in operations(document) if op["x-role"] != "reader"]
    assert {m for m, _ in above} >= WRITES - {"put", "patch"}
    for method, path in above:
        answer = client.request(method, path, headers=reader, json={"plan_digest": "x"})
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["error"]["kind"] == "forbidden"


def test_an_operator_may_not_manage_tokens_or_unlock(
    client: TestClient, operator: dict[str, str]
) -> None:
    """Tokens and unlock are admin's."""
    assert client.get("/api/tokens", headers=operator).status_code == 403
    assert client.post("/api/unlock", headers=operator, json={}).status_code == 403
    assert client.get("/api/plan", headers=operator).status_code == 200


def test_garbage_wrong_scheme_and_unknown_tokens_are_refused(client: TestClient) -> None:
    """Basic auth, an empty bearer, an oversized one and an unknown token: all 401."""
    for header in ("Basic dXNlcjpwYXNz", "Bearer ", "Bearer " + "x" * 5000, "Bearer rg_nope"):
        answer = client.get("/api/state", headers={"Authorization": header})
        assert answer.status_code == 401, header
        assert "rg_nope" not in answer.text


def test_a_revoked_token_is_refused_at_once(
    client: TestClient, admin: dict[str, str], token_for: MakeToken
) -> None:
    """After DELETE /api/tokens/NAME the token's next request is 401."""
    victim = token_for("ci", "reader")
    assert client.get("/api/state", headers=victim).status_code == 200
    revoked = client.delete("/api/tokens/ci", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked"]["name"] == "ci"
    assert client.get("/api/state", headers=victim).status_code == 401
    assert client.delete("/api/tokens/ci", headers=admin).status_code == 404


def test_an_expired_token_is_refused(client: TestClient, token_for: MakeToken) -> None:
    """A token whose expiry has passed is 401, naming the expiry, not the token."""
    soon = token_for("brief", "reader", expires="1s")
    import time

    time.sleep(1.1)
    answer = client.get("/api/state", headers=soon)
    assert answer.status_code == 401
    assert "expired" in answer.json()["error"]["message"]


def test_tokens_are_created_listed_and_their_secret_shown_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    """POST /api/tokens answers the secret; GET /api/tokens lists it without any secret."""
    made = client.post("/api/tokens", headers=admin, json={"name": "bot", "role": "operator"})
    assert made.status_code == 201
    secret = made.json()["token"]
    listed = client.get("/api/tokens", headers=admin)
    assert [t["name"] for t in listed.json()["tokens"]] == ["adam", "bot"]
    assert secret not in listed.text
    assert client.get("/api/plan", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    again = client.post("/api/tokens", headers=admin, json={"name": "bot", "role": "admin"})
    assert again.status_code == 409


def test_bad_input_is_400_naming_the_parameter(client: TestClient, reader: dict[str, str]) -> None:
    """A limit out of range and an unknown revision: 400 naming limit, 404 naming the rev."""
    bad = client.get("/api/log?limit=0", headers=reader)
    assert bad.status_code == 400
    assert bad.json()["error"]["kind"] == "usage_error" and "limit" in bad.json()["error"]["param"]
    missing = client.get("/api/commits/99", headers=reader)
    assert missing.status_code == 404 and missing.json()["error"]["what"] == "revision"


def sign_in(client: TestClient, headers: dict[str, str]) -> str:
    answer = client.post("/api/session", headers=headers)
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    csrf: str = answer.json()["csrf"]
    return csrf


def test_a_session_cookie_reads_and_writes_only_with_its_csrf_header(
    client: TestClient, operator: dict[str, str]
) -> None:
    """Signed in, the cookie alone reads; a write needs X-Retrograde-CSRF, else 403."""
    csrf = sign_in(client, operator)
    assert client.get("/api/state").status_code == 200
    assert client.get("/api/session").json()["name"] == "olga"
    refused = client.post("/api/discard", json={})
    assert refused.status_code == 403 and refused.json()["error"]["kind"] == "csrf_error"
    wrong = client.post("/api/discard", json={}, headers={"X-Retrograde-CSRF": "guess"})
    assert wrong.status_code == 403
    done = client.post("/api/discard", json={}, headers={"X-Retrograde-CSRF": csrf})
    assert done.status_code == 200, done.text
    out = client.delete("/api/session", headers={"X-Retrograde-CSRF": csrf})
    assert out.status_code == 200
    client.cookies.clear()
    assert client.get("/api/state").status_code == 401


def test_a_session_ends_when_its_token_is_revoked(
    client: TestClient, admin: dict[str, str], token_for: MakeToken
) -> None:
    """Revoking the token that opened a session refuses the session's next request."""
    sign_in(client, token_for("page", "reader"))
    assert client.get("/api/state").status_code == 200
    cookies = dict(client.cookies)
    client.cookies.clear()
    assert client.delete("/api/tokens/page", headers=admin).status_code == 200
    assert client.get("/api/state", cookies=cookies).status_code == 401
