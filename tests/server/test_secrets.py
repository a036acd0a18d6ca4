"""No response of a whole session ever carries a secret: not a token, not a secret input."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests import stacks
from tests.server.conftest import MakeToken, events_of

SECRET_VALUE = "hunter2-top-secret"
ECHO = stacks.quoted('echo "{{ resource }} {{ inputs.password }}"')
"""A handler printing the secret input, so masking of handler output is exercised too."""


def secret_stack() -> str:
    return f"""
types:
  node:
    version: 1
    inputs: {{ip: {{type: string}}}}
    actions: {{run: {{shell: "true"}}, update: {{shell: "true"}}, remove: {{shell: "true"}}}}
  service:
    version: 1
    inputs:
      ip: {{type: string}}
      password: {{type: string, secret: true}}
    actions: {{run: {{shell: {ECHO}}}, update: {{shell: {ECHO}}}, remove: {{shell: {ECHO}}}}}
resources:
  node1: {{type: node, inputs: {{ip: 10.20.0.2}}}}
  keystone1: {{type: service, inputs: {{ip: "${{node1.ip}}", password: {SECRET_VALUE}}}}}
"""


def test_a_full_session_never_shows_a_token_or_a_secret_value(
    client: TestClient, token_for: MakeToken
) -> None:
    """Sign in, stage, plan, apply, follow, read everything, revert, manage tokens, fail:
    no body and no header of any answer holds a token's secret or the secret input."""
    admin = token_for("boss", "admin")
    secrets = [admin["Authorization"].split()[1], SECRET_VALUE]
    seen: list[str] = []

    def call(method: str, path: str, **kwargs: object) -> dict:
        answer = client.request(method, path, headers=admin, **kwargs)  # type: ignore[arg-type]
        seen.append(answer.text)
        seen.extend(f"{k}: {v}" for k, v in answer.headers.items())
        return answer.json() if answer.headers.get("content-type", "").endswith("json") else {}

    created = client.post("/api/tokens", headers=admin, json={"name": "ops", "role": "operator"})
    secrets.append(created.json()["token"])  # shown once, on purpose: not recorded
    call("POST", "/api/session")
    call("POST", "/api/stage", json={"stack.yaml": secret_stack()})
    call("GET", "/api/diff")
    digest = call("GET", "/api/plan")["plan_digest"]
    apply_id = call("POST", "/api/apply", json={"plan_digest": digest})["apply_id"]
    seen.extend(data for _, data in events_of(client, admin, apply_id))
    for path in (
        "/api/state",
        "/api/state/keystone1",
        "/api/state?at=1",
        "/api/log",
        "/api/commits/2",
        "/api/blame/keystone1",
        f"/api/applies/{apply_id}/logs",
        "/api/logs/2",
        "/api/applies",
        f"/api/applies/{apply_id}",
        "/api/diff/revisions?from=0",
        "/api/verify",
        "/api/tokens",
        "/api/openapi.json",
        "/api/session",
        "/api/checkpoints",
        "/api/state/nothing-here",
    ):
        call("GET", path)
    call("POST", "/api/revert", json={"apply_id": apply_id, "preview": True})
    call("POST", "/api/rollback", json={"target": "0", "preview": True})
    call("POST", "/api/stage", json={"stack.yaml": "resources: {a: {type: nope}}"})
    call("POST", "/api/tokens", json={"name": "ops", "role": "reader"})
    call("DELETE", "/api/tokens/ops")
    logs = "\n".join(seen)
    assert "keystone1 ***" in logs  # the handler's output was there, masked
    assert len(seen) > 60
    for secret in secrets:
        assert secret not in logs
    assert "hunter2" not in logs
