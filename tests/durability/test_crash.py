"""Crash tests: a real ``retrograde apply`` is SIGKILLed at several points, then resumed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import retrograde
from retrograde.errors import InterruptedApplyError
from retrograde.model.apply import ApplyStatus
from retrograde.storage.connect import open_store
from tests import store_calls

from .consistency import all_commits, check_consistent, statuses
from .processes import kill, kill_group_in, run, run_json, spawn, wait_for
from .stacks import RESOURCES, actions_run, deployment, write

pytestmark = pytest.mark.slow
"""Real processes killed with SIGKILL at chosen points: seconds each."""


def _resume_and_check(store_url: str, cwd: Path) -> dict[str, object]:
    """Resume, then check the rule again and that every resource has exactly one commit."""
    report = run_json(store_url, cwd, "resume")
    assert report["status"] == "succeeded"
    with open_store(store_url) as store:
        tasks = check_consistent(store, 1)
        assert set(statuses(tasks).values()) == {"done"}
        assert Counter(c.resource for c in all_commits(store)) == Counter(RESOURCES)
        assert store_calls.get_apply(store, 1).status is ApplyStatus.SUCCEEDED
        assert store_calls.unfinished_applies(store) == []
    return report


def test_kill_during_a_handler_then_resume_reruns_it(store_url: str, tmp_path: Path) -> None:
    """Killed while keystone1's handler runs: nothing of it is recorded, and resume re-runs it."""
    write(tmp_path, "stack.yaml", deployment(slow="keystone1"))
    process = spawn(store_url, tmp_path, "apply", "stack.yaml", "--yes")
    wait_for(tmp_path / "slow.pid", process)
    kill(process)
    kill_group_in(tmp_path / "slow.pid")
    with open_store(store_url) as store:
        tasks = check_consistent(store, 1)
        assert (
            store_calls.get_apply(store, 1).status is ApplyStatus.RUNNING
        )  # it died: nobody closed it
    assert statuses(tasks)["keystone1"] == "started"
    assert statuses(tasks)["node1"] == "done"
    assert statuses(tasks)["haproxy"] == "pending"
    report = _resume_and_check(store_url, tmp_path)
    assert report["apply_id"] == 1
    assert "keystone1" in report["rerun"]
    assert report["attempts"]["keystone1"] == 2
    assert Counter(actions_run(tmp_path))["run keystone1"] == 2


@pytest.mark.parametrize(
    ("point", "resource", "journaled", "reran", "handler_runs"),
    [
        ("after-start", "haproxy", "started", True, 1),
        ("after-handler", "keystone1", "started", True, 2),
        ("after-commit", "keystone1", "done", False, 1),
    ],
)
def test_kill_at_an_exact_point_keeps_the_store_consistent(
    store_url: str,
    tmp_path: Path,
    point: str,
    resource: str,
    journaled: str,
    reran: bool,
    handler_runs: int,
) -> None:
    """SIGKILL at a fault point: consistent store, then resume ends with one commit per resource."""
    write(tmp_path, "stack.yaml", deployment())
    fault = f"{point}:{resource}"
    died = run(store_url, tmp_path, "apply", "stack.yaml", "--yes", RETROGRADE_FAULT=fault)
    assert died.returncode == -9, died.stderr
    with open_store(store_url) as store:
        tasks = check_consistent(store, 1)
    assert statuses(tasks)[resource] == journaled
    ran_before = Counter(actions_run(tmp_path))[f"run {resource}"]
    assert ran_before == (0 if point == "after-start" else 1)
    report = _resume_and_check(store_url, tmp_path)
    assert (resource in report["rerun"]) is reran
    assert Counter(actions_run(tmp_path))[f"run {resource}"] == handler_runs


def test_a_new_apply_after_a_crash_points_at_resume(store_url: str, tmp_path: Path) -> None:
    """After a crash, apply and stage refuse and name the interrupted apply, resume and discard."""
    stack = write(tmp_path, "stack.yaml", deployment())
    run(store_url, tmp_path, "apply", "stack.yaml", "--yes", RETROGRADE_FAULT="after-commit:node1")
    with retrograde.open_context(store_url, cwd=tmp_path, principal="tester") as ctx:
        started_at = store_calls.get_apply(ctx.store, 1).started_at
        expected = (
            f"apply 1 (by tester, started {started_at}) was interrupted; "
            "run 'retrograde resume' to continue it, or 'retrograde discard' to abandon it"
        )
        for attempt in (lambda: retrograde.apply(ctx), lambda: retrograde.stage(ctx, stack)):
            with pytest.raises(InterruptedApplyError) as refused:
                attempt()
            assert str(refused.value) == expected
        assert store_calls.get_apply(ctx.store, 1).status is ApplyStatus.INTERRUPTED
    cli = run(store_url, tmp_path, "apply", "--yes")
    assert (cli.returncode, cli.stderr) == (1, f"error: {expected}\n")


def test_a_resume_that_crashes_is_resumed_again(store_url: str, tmp_path: Path) -> None:
    """A resume killed after a handler leaves a consistent store; the next resume finishes."""
    write(tmp_path, "stack.yaml", deployment())
    run(store_url, tmp_path, "apply", "stack.yaml", "--yes", RETROGRADE_FAULT="after-commit:node1")
    died = run(store_url, tmp_path, "resume", RETROGRADE_FAULT="after-handler:haproxy")
    assert died.returncode == -9
    with open_store(store_url) as store:
        tasks = check_consistent(store, 1)
        assert store_calls.get_apply(store, 1).status is ApplyStatus.RUNNING
    assert statuses(tasks)["haproxy"] == "started"
    finished = run(store_url, tmp_path, "resume")
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines() == [
        "re-ran haproxy: it was in flight when the apply stopped",
        "apply 1 succeeded: 1 commit(s) (r4..r4), 0 failed, 0 skipped",
    ]
    with open_store(store_url) as store:
        tasks = check_consistent(store, 1)
        assert Counter(c.resource for c in all_commits(store)) == Counter(RESOURCES)
    assert (tasks["haproxy"].attempts, tasks["keystone1"].attempts) == (2, 2)
    assert Counter(actions_run(tmp_path))["run haproxy"] == 2


def test_applies_shows_a_killed_apply_as_interrupted(store_url: str, tmp_path: Path) -> None:
    """After a SIGKILL, `applies` reports the dead apply interrupted, not running."""
    write(tmp_path, "stack.yaml", deployment())
    died = run(
        store_url, tmp_path, "apply", "stack.yaml", "--yes", RETROGRADE_FAULT="after-commit:node1"
    )
    assert died.returncode != 0
    listed = run_json(store_url, tmp_path, "applies")
    assert [(a["id"], a["status"]) for a in listed["applies"]] == [(1, "interrupted")]
