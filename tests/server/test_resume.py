"""Stopping the app cancels its running apply; another app resumes it over the API."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

import retrograde
from retrograde.server.app import create_app
from retrograde.server.settings import ServerSettings
from retrograde.storage.base import Store
from tests.server.conftest import MakeToken, events_of, stack_text
from tests.server.test_apply_flow import stage, wait_until


def test_shutdown_interrupts_and_resume_continues_under_the_same_id(
    store: Store,
    store_url: str,
    tmp_path: Path,
    operator: dict[str, str],
    token_for: MakeToken,
    app_ctx: retrograde.Context,
) -> None:
    """The app's shutdown leaves the apply interrupted with its first wave committed; a new
    app's POST /api/resume answers 202 with the same id and runs the rest, as its token."""
    settings = ServerSettings(stacks_root=tmp_path / "up", serialise_writes=True)
    marker = tmp_path / "started"
    with TestClient(create_app(store, settings)) as first:
        stage(first, operator, stack_text(f"touch {marker}; sleep 0.5"))
        digest = first.get("/api/plan", headers=operator).json()["plan_digest"]
        started = first.post("/api/apply", headers=operator, json={"plan_digest": digest})
        apply_id = started.json()["apply_id"]
        wait_until(marker)
    record = retrograde.applies(app_ctx).applies[0]
    assert (record.id, record.status.value, record.succeeded) == (apply_id, "interrupted", 2)
    resumer = token_for("rex", "operator")
    with TestClient(create_app(store, settings)) as second:
        old = events_of(second, resumer, apply_id)
        assert [name for name, _ in old] == ["status"]
        assert json.loads(old[0][1])["status"] == "interrupted"
        blocked = second.post("/api/apply", headers=resumer, json={"plan_digest": digest})
        assert blocked.status_code == 409
        assert blocked.json()["error"]["kind"] == "interrupted_apply_error"
        resumed = second.post("/api/resume", headers=resumer, json={})
        assert resumed.status_code == 202, resumed.text
        assert resumed.json()["apply_id"] == apply_id
        events = events_of(second, resumer, apply_id)
        report = json.loads(events[-1][1])
        assert events[-1][0] == "report" and report["status"] == "succeeded"
        assert report["apply_id"] == apply_id and report["rerun"] == []
        later = second.get(f"/api/log?apply={apply_id}", headers=resumer).json()["commits"]
        assert sorted(c["principal"] for c in later) == ["olga", "olga", "rex", "rex", "rex"]
        again = second.post("/api/resume", headers=resumer, json={})
        assert again.status_code == 409


def test_unlock_is_an_admins_and_says_what_it_freed(
    client: TestClient, admin: dict[str, str]
) -> None:
    """A free store: released is null."""
    answer = client.post("/api/unlock", headers=admin, json={"force": False})
    assert answer.status_code == 200 and answer.json() == {"released": None}
