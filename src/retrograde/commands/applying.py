"""The apply verb: stage (optionally), plan, confirm and run, all under one store lock.

Holding the lock from staging to the last commit means no other process can
stage, discard or apply in between: the plan a person confirmed is the plan
that runs. The digest of the confirmed plan is checked once more right before
the run (a lock taken away with ``unlock --force`` is the one way around the
lock), and a mismatch refuses before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive
from retrograde.commands.migrating import stage_stack
from retrograde.commands.planning import plan_for
from retrograde.commands.stackfiles import read_stack
from retrograde.engine.cancel import CancelToken
from retrograde.engine.faults import configured_fault
from retrograde.engine.runner import ApplyReport, Job, Progress, RunOptions, run
from retrograde.errors import PlanChangedError
from retrograde.executors.registry import DEFAULT_EXECUTOR, executor_for
from retrograde.memory import gc_paused
from retrograde.model.apply import ApplyStatus
from retrograde.model.change import Change
from retrograde.model.plan import Plan
from retrograde.planning.digest import change_digests, differing, plan_digest

Confirm = Callable[[Plan, Mapping[str, Change]], bool]
"""Shown the plan and the changes it acts on; True to run it."""


def apply(
    ctx: Context,
    path: Path | None = None,
    *,
    jobs: int = 4,
    message: str = "",
    executor: str = DEFAULT_EXECUTOR,
    progress: Progress | None = None,
    confirm: Confirm | None = None,
    cancel: CancelToken | None = None,
    allow_include: Sequence[Path] = (),
) -> ApplyReport:
    """Apply the staged log (after staging ``path`` when given).

    With ``confirm``, the plan is shown to it first and runs only if it says
    yes (else the report has ``apply_id=None`` and status ``interrupted``, and
    nothing ran). Returns a report with ``apply_id=None`` when nothing is
    staged. Refused while another process holds the store (the error names the
    holder) or while an interrupted apply waits for ``resume`` or ``discard``;
    :class:`PlanChangedError` when the staged log moved after confirmation.
    ``cancel`` stops dispatching (see :mod:`retrograde.engine.runner`).
    """
    allowed = [ctx.cwd / directory for directory in allow_include]
    stack = None
    if path is not None:
        stack = read_stack(ctx.cwd / path, source=str(path), allow_include=allowed)
    with exclusive(ctx, "apply") as grant:
        with gc_paused():
            if stack is not None:
                stage_stack(ctx, stack)
            with ctx.store.read() as tx:
                changes = tx.staged.load()
            plan = plan_for(changes)
        if not changes:
            return ApplyReport(apply_id=None, status=ApplyStatus.SUCCEEDED)
        if confirm is not None:
            if not confirm(plan, changes):
                return ApplyReport(apply_id=None, status=ApplyStatus.INTERRUPTED)
            _check_unchanged(ctx, plan, changes)
        with ctx.store.read() as tx:
            types = tx.state.types()
        runner = executor_for(executor, jobs)
        try:
            options = RunOptions(
                ctx.principal,
                message,
                runner,
                progress=progress,
                lock=grant,
                faults=configured_fault(),
                cancel=cancel or CancelToken(),
            )
            return run(ctx.store, Job(plan, changes, types), options)
        finally:
            runner.shutdown()


def _check_unchanged(ctx: Context, plan: Plan, changes: Mapping[str, Change]) -> None:
    """Refuse when what is staged now is not what was confirmed."""
    with gc_paused(), ctx.store.read() as tx:
        now = tx.staged.load()
    if plan_digest(plan_for(now), now) != plan_digest(plan, changes):
        raise PlanChangedError(differing(change_digests(changes), change_digests(now)))
