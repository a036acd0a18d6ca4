"""Retries and timeouts per type or action: one commit per success, attempts on the apply."""

from __future__ import annotations

import json
from pathlib import Path

import retrograde
from retrograde.model.apply import ApplyStatus
from retrograde.model.query import LogQuery
from tests import store_calls

from .processes import run
from .stacks import write

FLAKY = """
types:
  flaky:
    version: 1
    retries: {retries}
    inputs:
      fail_times: {{type: integer}}
    actions:
      run:
        shell: >-
          n=$(cat {{{{ resource }}}}.count 2>/dev/null || echo 0); n=$((n+1));
          echo $n > {{{{ resource }}}}.count;
          [ $n -gt {{{{ inputs.fail_times }}}} ] || {{ echo "attempt $n failed" >&2; exit 3; }}
  slow:
    version: 1
    inputs: {{}}
    actions:
      run: {{shell: "sleep 5", timeout: 0.2, retries: 1}}
resources:
  app: {{type: flaky, inputs: {{fail_times: {fail_times}}}}}
"""


def flaky(retries: int, fail_times: int) -> str:
    return FLAKY.format(retries=retries, fail_times=fail_times)


def test_a_handler_failing_twice_then_succeeding_gives_one_commit_and_three_attempts(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """retries: 2 and two failures: the action succeeds on attempt 3 and writes one commit."""
    report = retrograde.apply(ctx, write(tmp_path, "stack.yaml", flaky(retries=2, fail_times=2)))
    assert report.status is ApplyStatus.SUCCEEDED
    assert report.attempts == {"app": 3}
    assert (tmp_path / "app.count").read_text().strip() == "3"
    commits = store_calls.log(ctx.store, LogQuery(resource="app"))
    assert [(c.rev, c.action.value, c.apply_id) for c in commits] == [(1, "run", report.apply_id)]
    assert report.commits == (1,)
    (task,) = store_calls.load_tasks(ctx.store, 1)
    assert (task.status.value, task.attempts, task.error) == ("done", 3, None)


def test_apply_json_lists_the_attempts(store_url: str, tmp_path: Path) -> None:
    """apply --json reports the attempts of every action that needed more than one."""
    write(tmp_path, "stack.yaml", flaky(retries=3, fail_times=1))
    done = run(store_url, tmp_path, "apply", "stack.yaml", "--yes", "--json")
    report = json.loads(done.stdout)
    assert (report["status"], report["commits"], report["attempts"]) == (
        "succeeded",
        [1],
        {"app": 2},
    )


def test_retries_that_run_out_leave_a_failure_with_every_attempt_recorded(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """With retries: 1 and three failures the action fails after 2 attempts, writing no commit."""
    report = retrograde.apply(ctx, write(tmp_path, "stack.yaml", flaky(retries=1, fail_times=3)))
    assert (report.status, report.failed, report.commits) == (ApplyStatus.FAILED, ("app",), ())
    assert report.failures == {"app": {"exit_code": 3, "error": "attempt 2 failed\n"}}
    (task,) = store_calls.load_tasks(ctx.store, 1)
    assert (task.status.value, task.attempts) == ("failed", 2)
    assert task.error == {"exit_code": 3, "error": "attempt 2 failed\n"}
    assert store_calls.get_apply(ctx.store, 1).failures == report.failures
    assert list(store_calls.load_staged(ctx.store)) == ["app"]


def test_a_timeout_counts_as_a_failed_attempt(ctx: retrograde.Context, tmp_path: Path) -> None:
    """An action over its timeout is killed and retried; both attempts time out."""
    text = flaky(retries=0, fail_times=0).replace(
        "  app: {type: flaky", "  sleeper: {type: slow}\n  app: {type: flaky"
    )
    report = retrograde.apply(ctx, write(tmp_path, "stack.yaml", text))
    assert report.failed == ("sleeper",)
    assert str(report.failures["sleeper"]["error"]).startswith("timed out after 0.2 s")
    assert report.attempts == {"sleeper": 2}
    assert [c.resource for c in store_calls.log(ctx.store, LogQuery())] == ["app"]
