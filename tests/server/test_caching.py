"""Cached read answers follow the store: a commit from elsewhere, or a newly secret input,
changes the next answer."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event

from retrograde.storage.sql.store import SqlStore
from tests import stacks
from tests.durability import processes
from tests.server.conftest import stack_text


def test_a_cli_commit_shows_in_the_next_state_and_log(
    client: TestClient, reader: dict[str, str], store_url: str, tmp_path: Path
) -> None:
    """State and log asked twice, then a CLI apply in another process: both answers move."""
    for _ in range(2):
        assert client.get("/api/state", headers=reader).json()["resources"] == {}
        assert client.get("/api/log", headers=reader).json()["commits"] == []
    (tmp_path / "s.yaml").write_text(stack_text("true"), encoding="utf-8")
    done = processes.run(store_url, tmp_path, "apply", "s.yaml", "--yes")
    assert done.returncode == 0, done.stderr
    assert len(client.get("/api/state", headers=reader).json()["resources"]) == 5
    assert len(client.get("/api/log", headers=reader).json()["commits"]) == 5
    assert client.get("/api/commits/1", headers=reader).status_code == 200


def node_ips(client: TestClient, headers: dict[str, str]) -> set[str]:
    commits = client.get("/api/log", headers=headers).json()["commits"]
    return {c["diff"]["ip"]["to"] for c in commits if c["type"] == "node"}


def test_an_input_declared_secret_later_is_masked_in_cached_answers(
    client: TestClient, operator: dict[str, str], store_url: str, tmp_path: Path
) -> None:
    """Staging a type version that makes ``ip`` secret masks it in the log and commits at once,
    though no commit was made."""
    (tmp_path / "s.yaml").write_text(stack_text("true"), encoding="utf-8")
    done = processes.run(store_url, tmp_path, "apply", "s.yaml", "--yes")
    assert done.returncode == 0, done.stderr
    first = client.get("/api/commits/1", headers=operator).json()
    assert first["resource"].startswith("node") and first["diff"]["ip"]["to"].startswith("10.")
    assert node_ips(client, operator) == {"10.20.0.2", "10.20.0.3"}
    secret_ip = stacks.types("true").replace(
        "  node:\n    version: 1\n    inputs:\n      ip: {type: string}",
        "  node:\n    version: 2\n    inputs:\n      ip: {type: string, secret: true}",
    )
    assert "secret: true}\n    actions: &actions" in secret_ip
    text = secret_ip + stacks.resources(stacks.NODES)
    staged = client.post("/api/stage", json={"stack.yaml": text}, headers=operator)
    assert staged.status_code == 200, staged.text
    assert client.get("/api/commits/1", headers=operator).json()["diff"]["ip"]["to"] == "***"
    assert node_ips(client, operator) == {"***"}


def test_a_cached_answer_costs_one_read_and_a_revoked_token_none(
    client: TestClient, reader: dict[str, str], admin: dict[str, str], store: SqlStore
) -> None:
    """Asked again at the same head, state, log and a commit each cost the one read transaction
    that checks the token (and reads the head with it); revoking the token refuses the very
    next request, cached answer or not."""
    paths = ["/api/state", "/api/log", "/api/state/nothing-here"]
    for path in paths[:2]:
        assert client.get(path, headers=reader).status_code == 200  # rendered and kept
    begun: list[object] = []

    def count(connection: object) -> None:
        begun.append(connection)

    event.listen(store.engine, "begin", count)
    try:
        for path in paths[:2]:
            assert client.get(path, headers=reader).status_code == 200
        assert len(begun) == 2
        assert client.get(paths[2], headers=reader).status_code == 404  # rendered: no cache
    finally:
        event.remove(store.engine, "begin", count)
    assert client.delete("/api/tokens/rita", headers=admin).status_code == 200
    assert client.get("/api/log", headers=reader).status_code == 401
