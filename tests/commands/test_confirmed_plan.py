"""The plan a person confirms is the plan that runs: another process cannot slip work in."""

from __future__ import annotations

from pathlib import Path

import pytest

import retrograde
from retrograde.errors import PlanChangedError
from retrograde.model.apply import ApplyStatus
from tests import store_calls
from tests.commands.stacks import V1, V2, actions_run, write
from tests.durability.processes import run


def test_a_stage_from_another_process_during_confirmation_is_refused(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """While the plan is being confirmed the store is locked: the other stage fails, ours runs."""
    write(tmp_path, "v2.yaml", V2)
    confirmed: list[str] = []

    def confirm(plan: retrograde.Plan, _changes: object) -> bool:
        confirmed.extend(action.resource for action in plan.actions)
        other = run(store_url, tmp_path, "stage", "v2.yaml")
        assert other.returncode == 1
        assert "the store is locked by apply of tester" in other.stderr
        return True

    report = retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1), confirm=confirm)
    assert report.status is ApplyStatus.SUCCEEDED
    ran = sorted(line.split()[1] for line in actions_run(tmp_path))
    assert ran == sorted(confirmed) == ["haproxy", "keystone1", "node1", "node2"]
    assert "keystone2" not in store_calls.load_state(ctx.store)


def test_work_staged_after_a_forced_unlock_is_refused_before_anything_runs(
    ctx: retrograde.Context, store_url: str, tmp_path: Path
) -> None:
    """If the lock is forced away and another plan staged, the confirmed one is not replaced."""
    write(tmp_path, "v2.yaml", V2)

    def confirm(_plan: retrograde.Plan, _changes: object) -> bool:
        assert run(store_url, tmp_path, "unlock", "--force").returncode == 0
        assert run(store_url, tmp_path, "stage", "v2.yaml").returncode == 0
        return True

    with pytest.raises(PlanChangedError) as refused:
        retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1), confirm=confirm)
    assert "keystone1" in refused.value.resources and "keystone2" in refused.value.resources
    assert actions_run(tmp_path) == []
    assert store_calls.head(ctx.store)[0] == 0
    assert store_calls.list_applies(ctx.store) == []


def test_a_declined_plan_runs_nothing(ctx: retrograde.Context, tmp_path: Path) -> None:
    """Saying no leaves the staged log as staged and begins no apply."""
    report = retrograde.apply(ctx, write(tmp_path, "v1.yaml", V1), confirm=lambda *_: False)
    assert report.apply_id is None
    assert actions_run(tmp_path) == []
    assert sorted(store_calls.load_staged(ctx.store)) == ["haproxy", "keystone1", "node1", "node2"]
