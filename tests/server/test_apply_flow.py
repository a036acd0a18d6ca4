"""Staging, applying and reverting over HTTP: 202 and events, principals proven, one lock."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import retrograde
from tests import stacks, store_calls
from tests.durability import processes
from tests.server.conftest import events_of, stack_text


def wait_until(path: Path) -> None:
    deadline = time.monotonic() + processes.WAIT_SECONDS
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.02)


def stage(client: TestClient, headers: dict[str, str], text: str) -> dict:
    answer = client.post("/api/stage", json={"stack.yaml": text}, headers=headers)
    assert answer.status_code == 200, answer.text
    staged: dict = answer.json()
    return staged


def apply(client: TestClient, headers: dict[str, str], **extra: object) -> int:
    """Apply the staged plan (by its digest) and follow it to a succeeded report."""
    digest = client.get("/api/plan", headers=headers).json()["plan_digest"]
    started = client.post("/api/apply", headers=headers, json={"plan_digest": digest, **extra})
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["status"] == "running" and started.headers["location"] == body["events"]
    events = events_of(client, headers, body["apply_id"])
    assert events[-1][0] == "report", events
    assert json.loads(events[-1][1])["status"] == "succeeded"
    apply_id: int = body["apply_id"]
    return apply_id


def test_an_operator_stages_applies_and_reverts_as_the_tokens_name(
    client: TestClient, operator: dict[str, str], app_ctx: retrograde.Context
) -> None:
    """Every commit of the apply and of its revert names the token, whatever the request says."""
    stage(client, operator, stack_text())
    first = apply(client, operator, principal="mallory", message="first")
    commits = client.get(f"/api/log?apply={first}", headers=operator).json()["commits"]
    assert len(commits) == 5 and {c["principal"] for c in commits} == {"olga"}
    assert {c["message"] for c in commits} == {"first"}
    preview = client.post(
        "/api/revert", headers=operator, json={"apply_id": first, "preview": True}
    )
    assert preview.status_code == 200 and preview.json()["staged"] is False
    assert client.get("/api/diff", headers=operator).json() == {"changes": {}}
    reverted = client.post("/api/revert", headers=operator, json={"apply_id": first})
    assert reverted.status_code == 200 and reverted.json()["staged"] is True
    second = apply(client, operator, principal="mallory")
    assert retrograde.state(app_ctx).resources == {}
    undo = client.get(f"/api/log?apply={second}", headers=operator).json()["commits"]
    assert {c["principal"] for c in undo} == {"olga"} and all(c["reverts"] for c in undo)
    record = client.get(f"/api/applies/{second}", headers=operator).json()
    assert record["principal"] == "olga" and record["status"] == "succeeded"
    begins = [e for e in store_calls.chain_entries(app_ctx.store) if e.kind == "apply-begin"]
    assert {(e.data["principal"], e.data["principal_source"]) for e in begins} == {
        ("olga", "token")
    }


def test_the_events_name_every_action_and_end_with_the_report(
    client: TestClient, operator: dict[str, str]
) -> None:
    """begin, a started and a finished event per action, then the report; replayed from the
    start for a late client, and after Last-Event-ID."""
    stage(client, operator, stack_text())
    apply_id = apply(client, operator)
    events = events_of(client, operator, apply_id)
    names = [name for name, _ in events]
    assert names[0] == "begin" and names[-1] == "report"
    assert names.count("action_started") == names.count("action_finished") == 5
    finished = [json.loads(d)["resource"] for n, d in events if n == "action_finished"]
    assert finished.index("node1") < finished.index("keystone1") < finished.index("haproxy")
    with client.stream(
        "GET", f"/api/applies/{apply_id}/events", headers={**operator, "Last-Event-ID": "11"}
    ) as later:
        assert later.headers["x-accel-buffering"] == "no"
        assert later.headers["cache-control"] == "no-cache"
        assert later.headers["content-type"].startswith("text/event-stream")
        assert [line for line in later.iter_lines() if line.startswith("event:")] == [
            "event: report"
        ]


def test_a_failed_action_is_an_action_failed_event_and_a_failed_report(
    client: TestClient, operator: dict[str, str]
) -> None:
    """A handler exiting 3 gives action_failed with its exit code; the report says failed."""
    stage(client, operator, stack_text("exit 3"))
    digest = client.get("/api/plan", headers=operator).json()["plan_digest"]
    started = client.post("/api/apply", headers=operator, json={"plan_digest": digest})
    events = events_of(client, operator, started.json()["apply_id"])
    failed = [json.loads(d) for n, d in events if n == "action_failed"]
    assert failed and failed[0]["failure"]["exit_code"] == 3
    assert json.loads(events[-1][1])["status"] == "failed"


def test_a_digest_that_is_not_the_staged_plans_is_409_and_runs_nothing(
    client: TestClient, operator: dict[str, str], app_ctx: retrograde.Context
) -> None:
    """Staging again after reading the plan moves the log: the old digest is refused."""
    stage(client, operator, stack_text())
    digest = client.get("/api/plan", headers=operator).json()["plan_digest"]
    stage(client, operator, stack_text().replace("10.20.0.3", "10.20.0.9"))
    refused = client.post("/api/apply", headers=operator, json={"plan_digest": digest})
    assert refused.status_code == 409
    assert refused.json()["error"]["kind"] == "plan_digest_error"
    assert retrograde.state(app_ctx).resources == {}
    assert client.get("/api/applies", headers=operator).json()["applies"] == []


def test_nothing_staged_is_409(client: TestClient, operator: dict[str, str]) -> None:
    """Applying an empty staged log is refused as a conflict, not accepted."""
    digest = client.get("/api/plan", headers=operator).json()["plan_digest"]
    answer = client.post("/api/apply", headers=operator, json={"plan_digest": digest})
    assert answer.status_code == 409 and "nothing" in answer.json()["error"]["message"]


def test_a_cli_apply_holding_the_lock_makes_the_server_apply_409(
    client: TestClient,
    operator: dict[str, str],
    store_url: str,
    tmp_path: Path,
) -> None:
    """While a real CLI apply runs, POST /api/apply is 409 naming the CLI's holder."""
    marker = tmp_path / "started"
    slow = f"touch {marker}; sleep 2; " + "true"
    (tmp_path / "cli.yaml").write_text(stack_text(slow), encoding="utf-8")
    cli = processes.spawn(store_url, tmp_path, "apply", "cli.yaml", "--yes")
    try:
        processes.wait_for(marker, cli)
        refused = client.post("/api/apply", headers=operator, json={"plan_digest": "x"})
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert error["kind"] == "store_locked_error" and error["principal"] == "tester"
        staging = client.post("/api/stage", headers=operator, json={"stack.yaml": stack_text()})
        assert staging.status_code == 409
    finally:
        _out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err


def test_a_server_apply_holding_the_lock_refuses_a_cli_apply(
    client: TestClient, operator: dict[str, str], store_url: str, tmp_path: Path
) -> None:
    """While the server's apply runs, a CLI apply exits 1 naming the token as the holder."""
    marker = tmp_path / "started"
    one_slow_node = stacks.types(f"touch {marker}; sleep 6") + stacks.resources(stacks.NODE1)
    stage(client, operator, one_slow_node)
    digest = client.get("/api/plan", headers=operator).json()["plan_digest"]
    started = client.post("/api/apply", headers=operator, json={"plan_digest": digest})
    assert started.status_code == 202
    (tmp_path / "cli.yaml").write_text(stack_text(), encoding="utf-8")
    wait_until(marker)
    done = processes.run(store_url, tmp_path, "apply", "cli.yaml", "--yes")
    assert done.returncode == 1
    assert "locked by apply" in done.stderr and "olga" in done.stderr
    events = events_of(client, operator, started.json()["apply_id"])
    assert json.loads(events[-1][1])["status"] == "succeeded"


@pytest.mark.parametrize("field", ["principal", "X-Retrograde-Principal"])
def test_checkpoints_name_the_token_too(
    client: TestClient, operator: dict[str, str], field: str
) -> None:
    """A checkpoint made over HTTP is the token's, whatever the body or headers claim."""
    made = client.post(
        "/api/checkpoints",
        headers={**operator, field: "mallory"},
        json={"name": "empty", "message": "before anything", field: "mallory"},
    )
    assert made.status_code == 201 and made.json()["principal"] == "olga"
    listed = client.get("/api/checkpoints", headers=operator).json()["checkpoints"]
    assert [(c["name"], c["principal"]) for c in listed] == [("empty", "olga")]


def test_a_reverted_move_is_staged_shown_and_applied_over_http(
    client: TestClient, operator: dict[str, str], app_ctx: retrograde.Context
) -> None:
    """POST /api/revert of a move stages it (the log keeps its head); diff and plan list it
    under moves; the apply by digest commits it, running no handler."""
    stage(client, operator, stack_text())
    apply(client, operator)
    moved = retrograde.mv(app_ctx, "keystone2", "keystone_b")
    reverted = client.post("/api/revert", headers=operator, json={"revs": [moved.rev]})
    assert reverted.status_code == 200, reverted.text
    assert reverted.json()["moves"] == [{"from": "keystone_b", "to": "keystone2"}]
    staged_move = {"resource": "keystone2", "action": "move", "from": "keystone_b"}
    assert client.get("/api/diff", headers=operator).json() == {
        "changes": {},
        "moves": [staged_move],
    }
    plan = client.get("/api/plan", headers=operator).json()
    assert plan["moves"] == [staged_move] and plan["actions"] == []
    assert client.get("/api/log?limit=1", headers=operator).json()["commits"][0]["rev"] == (
        moved.rev
    )
    apply_id = apply(client, operator)
    commits = client.get(f"/api/log?apply={apply_id}", headers=operator).json()["commits"]
    assert [(c["action"], c["resource"], c["from"]) for c in commits] == [
        ("move", "keystone2", "keystone_b")
    ]
    assert "keystone2" in store_calls.load_state(app_ctx.store)
