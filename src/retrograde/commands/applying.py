"""The apply verb: stage (optionally), plan, run, commit."""

from __future__ import annotations

from pathlib import Path

from retrograde.commands.context import Context
from retrograde.commands.planning import plan_for
from retrograde.commands.staging import stage
from retrograde.engine.runner import ApplyReport, Progress, run_plan
from retrograde.executors.registry import executor_for
from retrograde.model.apply import ApplyStatus


def apply(
    ctx: Context,
    path: Path | None = None,
    *,
    jobs: int = 4,
    message: str = "",
    executor: str = "threads",
    progress: Progress | None = None,
) -> ApplyReport:
    """Apply the staged log (after staging ``path`` when given).

    Returns a report with ``apply_id=None`` when nothing is staged.
    """
    if path is not None:
        stage(ctx, path)
    changes = ctx.store.load_staged()
    if not changes:
        return ApplyReport(apply_id=None, status=ApplyStatus.SUCCEEDED)
    plan = plan_for(changes)
    types = ctx.store.load_types()
    runner = executor_for(executor, jobs)
    try:
        return run_plan(
            ctx.store,
            plan,
            changes,
            types,
            runner,
            principal=ctx.principal,
            message=message,
            progress=progress,
        )
    finally:
        runner.shutdown()
