"""The apply verb: stage (optionally), plan, run, commit."""

from __future__ import annotations

from pathlib import Path

from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive
from retrograde.commands.migrating import stage_stack
from retrograde.commands.planning import plan_for
from retrograde.commands.stackfiles import read_stack
from retrograde.engine.runner import ApplyReport, Progress, run_plan
from retrograde.executors.registry import executor_for
from retrograde.memory import gc_paused
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

    Returns a report with ``apply_id=None`` when nothing is staged. Holds the
    store lock throughout: refused while another process holds it (the error
    names the holder) or while an interrupted apply waits for ``resume`` or
    ``discard``.
    """
    stack = read_stack(ctx.cwd / path, source=str(path)) if path is not None else None
    with exclusive(ctx, "apply") as grant:
        with gc_paused():
            if stack is not None:
                stage_stack(ctx, stack)
            changes = ctx.store.load_staged()
            plan = plan_for(changes)
        if not changes:
            return ApplyReport(apply_id=None, status=ApplyStatus.SUCCEEDED)
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
                lock=grant,
            )
        finally:
            runner.shutdown()
