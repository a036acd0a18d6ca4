"""Failure semantics: no commit for a failed action, dependents skipped, the rest finishes."""

from __future__ import annotations

from pathlib import Path

import retrograde
from tests import store_calls
from tests.commands.stacks import actions_run, write

FAILING = """
types:
  thing:
    version: 1
    inputs:
      value: {type: any}
    actions:
      run: {shell: 'echo "run {{ resource }}" >> actions.log'}
  broken:
    version: 1
    inputs:
      value: {type: any}
    actions:
      run: {shell: 'echo "disk full on {{ resource }}" >&2; exit 3'}
resources:
  base: {type: thing, inputs: {value: 1}}
  bad: {type: broken, inputs: {value: "${base.value}"}}
  child: {type: thing, inputs: {value: "${bad.value}"}}
  grandchild: {type: thing, inputs: {value: "${child.value}"}}
  other: {type: thing, inputs: {value: 2}}
"""


def test_failed_action_skips_dependents_and_keeps_them_staged(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """bad fails with its stderr recorded; child and grandchild are skipped; others commit."""
    report = retrograde.apply(ctx, write(tmp_path, "stack.yaml", FAILING))
    assert report.status is retrograde.ApplyStatus.FAILED
    assert report.failed == ("bad",)
    assert report.skipped == ("child", "grandchild")
    assert report.failures["bad"]["exit_code"] == 3
    assert "disk full on bad" in str(report.failures["bad"]["error"])
    assert sorted(actions_run(tmp_path)) == ["run base", "run other"]
    assert sorted(c.resource for c in retrograde.log(ctx)) == ["base", "other"]
    assert sorted(retrograde.diff(ctx)) == ["bad", "child", "grandchild"]
    assert sorted(retrograde.state(ctx).resources) == ["base", "other"]


def test_failed_apply_is_recorded_with_counts(ctx: retrograde.Context, tmp_path: Path) -> None:
    """The apply record holds the status, counts and the failure's stderr tail."""
    report = retrograde.apply(ctx, write(tmp_path, "stack.yaml", FAILING), message="try")
    assert report.apply_id is not None
    record = store_calls.get_apply(ctx.store, report.apply_id)
    assert record.status is retrograde.ApplyStatus.FAILED
    assert (record.succeeded, record.failed, record.skipped) == (2, 1, 2)
    assert record.message == "try"
    assert record.principal == "tester"
    assert "disk full" in str(record.failures["bad"]["error"])


def test_retry_after_fix_applies_only_what_is_left(ctx: retrograde.Context, tmp_path: Path) -> None:
    """After fixing the handler, a new apply runs only the failed and skipped changes."""
    retrograde.apply(ctx, write(tmp_path, "stack.yaml", FAILING))
    fixed = FAILING.replace("""echo "disk full on {{ resource }}" >&2; exit 3""", "true")
    report = retrograde.apply(ctx, write(tmp_path, "stack.yaml", fixed))
    assert report.status is retrograde.ApplyStatus.SUCCEEDED
    assert [c.resource for c in retrograde.log(ctx, retrograde.LogQuery(apply_id=report.apply_id))][
        ::-1
    ] == ["bad", "child", "grandchild"]
    assert retrograde.diff(ctx) == {}
