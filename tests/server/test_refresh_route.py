"""``POST /api/refresh``: the drift of a hand-edited world, recorded as the token's name."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import Invoke
from tests.drift.stacks import drift_stack


def test_refresh_answers_the_drift_and_accepts_it_as_the_tokens_name(
    client: TestClient, operator: dict[str, str], invoke: Invoke, tmp_path: Path
) -> None:
    """The drifted input only, no secret in the answer; accept writes observe commits by olga."""
    drift_stack(tmp_path)
    assert invoke("apply", "stack.yaml", "--yes").exit_code == 0
    (tmp_path / "conf1.txt").write_text("edited by hand")
    found = client.post("/api/refresh", headers=operator, json={})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["drift"] == {
        "conf1": {"content": {"committed": "hello", "observed": "edited by hand"}}
    }
    assert body["failed"] == {} and body["observed"] == []
    assert "t0ken-value" not in found.text
    accepted = client.post(
        "/api/refresh",
        headers=operator,
        json={"resources": ["conf1"], "accept": True, "principal": "mallory"},
    )
    assert accepted.status_code == 200, accepted.text
    [rev] = accepted.json()["observed"]
    commit = client.get(f"/api/commits/{rev}", headers=operator).json()
    assert (commit["action"], commit["principal"]) == ("observe", "olga")
    assert client.post("/api/refresh", headers=operator, json={}).json()["drift"] == {}


def test_accept_and_restore_together_are_a_bad_request(
    client: TestClient, operator: dict[str, str]
) -> None:
    """Both at once is 400 with the JSON error shape; nothing runs."""
    refused = client.post("/api/refresh", headers=operator, json={"accept": True, "restore": True})
    assert refused.status_code == 400
    assert refused.json()["error"]["kind"] == "usage_error"
