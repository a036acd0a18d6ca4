"""A first pass through the API: sign in, stage, plan, apply, follow, read."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.server.conftest import events_of, stack_text


def test_stage_plan_apply_and_read(client: TestClient, operator: dict[str, str]) -> None:
    """An operator stages a stack, applies its plan, follows it to the end, and reads state."""
    staged = client.post("/api/stage", json={"stack.yaml": stack_text()}, headers=operator)
    assert staged.status_code == 200, staged.text
    assert set(staged.json()["changes"]) == {"node1", "node2", "keystone1", "keystone2", "haproxy"}
    plan = client.get("/api/plan", headers=operator).json()
    started = client.post("/api/apply", json={"plan_digest": plan["plan_digest"]}, headers=operator)
    assert started.status_code == 202, started.text
    apply_id = started.json()["apply_id"]
    events = events_of(client, operator, apply_id)
    assert events[-1][0] == "report"
    assert json.loads(events[-1][1])["status"] == "succeeded"
    state = client.get("/api/state", headers=operator).json()
    assert state["resources"]["keystone1"]["inputs"]["password"] == "***"
