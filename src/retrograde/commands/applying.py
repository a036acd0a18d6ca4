"""The apply verb: stage (optionally), plan, confirm and run, all under one store lock.

Holding the lock from staging to the last commit means no other process can
stage, discard or apply in between: the plan a person confirmed is the plan
that runs. The digest of the confirmed plan is checked once more right before
the run (a lock taken away with ``unlock --force`` is the one way around the
lock), and a mismatch refuses before anything runs.

``apply FILE`` takes FILE as a saved plan when its header says so
(:mod:`retrograde.commands.saved_plans`): nothing is staged, and the plan made
from the store under the lock must be the saved one, else nothing runs.
Targets, tags and exclusions narrow the work to the selected resources and
what they need (:mod:`retrograde.planning.targeting`); the rest stays staged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive
from retrograde.commands.planning import selected
from retrograde.commands.saved_plans import SavedPlan, is_plan_file, read_plan_file, saved_work
from retrograde.commands.stackfiles import StackVars, read_verb_stack
from retrograde.engine.cancel import CancelToken
from retrograde.engine.faults import configured_fault
from retrograde.engine.runner import ApplyReport, Job, Progress, RunOptions, run
from retrograde.errors import PlanChangedError, StateError
from retrograde.executors.registry import DEFAULT_EXECUTOR, executor_for
from retrograde.executors.wire_secrets import WireSecrets
from retrograde.memory import gc_paused
from retrograde.model.apply import ApplyStatus
from retrograde.model.change import Change
from retrograde.model.plan import Plan
from retrograde.planning.digest import change_digests, differing, plan_digest
from retrograde.planning.selection import TagPairs
from retrograde.planning.targeting import Targeting
from retrograde.storage.sealing import Opener

if TYPE_CHECKING:  # the type only: staging a stack file (templates, YAML) loads with FILE
    from retrograde.planning.stackfile import Stack

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
    stack_vars: StackVars | None = None,
    targets: Iterable[str] = (),
    tags: TagPairs = (),
    exclude: Iterable[str] = (),
) -> ApplyReport:
    """Apply the staged log (after staging ``path`` when given), or its selected part.

    ``path`` is a saved plan file (``plan -o``) when its header says so: then
    exactly that plan runs, or :class:`StalePlanError` refuses before anything
    runs, naming what changed since (a saved plan carries its own selection,
    so ``targets``, ``tags`` and ``exclude`` must be empty). Otherwise ``path``
    is a stack file, staged first as :func:`retrograde.stage` would (for the
    selected resources only, when some are selected), its vars from ``stack_vars``.

    With ``confirm``, the plan is shown to it first and runs only if it says
    yes (else the report has ``apply_id=None`` and status ``interrupted``, and
    nothing ran). Returns a report with ``apply_id=None`` when nothing is
    selected. Staged moves (a revert of a rename) are committed first, in the
    transaction that begins the apply, whatever the selection. Refused while
    another process holds the store (the error names the holder) or while an
    interrupted apply waits for ``resume`` or ``discard``; :class:`PlanChangedError`
    when the staged log moved after confirmation.
    ``cancel`` stops dispatching (see :mod:`retrograde.engine.runner`).
    """
    targeting = Targeting.of(targets, tags, exclude)
    stack, saved = _read_input(ctx, path, allow_include, targeting, stack_vars)
    if saved is not None:
        targeting = saved.targeting  # for the check after confirmation
    with exclusive(ctx, "apply") as grant:
        with gc_paused():
            if stack is not None:
                from retrograde.commands.staging import stage_selected  # templates: FILE only

                stage_selected(ctx, stack, targeting)
            with ctx.store.read() as tx:
                staged, moves = tx.staged.load(), tx.staged.moves()
                head = tx.log.head()
            if saved is None:
                plan, changes = selected(staged, targeting, moves)
            else:
                plan, changes = saved_work(saved, str(path), staged, head, moves)
        if not changes and not moves:
            return ApplyReport(apply_id=None, status=ApplyStatus.SUCCEEDED)
        if confirm is not None:
            if not confirm(plan, changes):
                return ApplyReport(apply_id=None, status=ApplyStatus.INTERRUPTED)
            _check_unchanged(ctx, plan, changes, targeting)
        with ctx.store.read() as tx:
            types = tx.state.types()
        opener = Opener(ctx.keys.box)
        wire = WireSecrets(ctx.keys, opener)
        runner = executor_for(executor, jobs, scope=ctx.store.url, secrets=wire)
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
            job = Job(plan, changes, types, moves=moves, reveal=opener.change)
            return run(ctx.store, job, options)
        finally:
            runner.shutdown()


def _read_input(
    ctx: Context,
    path: Path | None,
    allow_include: Sequence[Path],
    targeting: Targeting,
    stack_vars: StackVars | None,
) -> tuple[Stack | None, SavedPlan | None]:
    """FILE as a stack or as a saved plan (read before the lock is taken), or neither."""
    if path is None:
        return None, None
    if is_plan_file(ctx.cwd / path):
        if not targeting.everything:
            raise StateError(
                f"{path} is a saved plan: it carries its own selection "
                "(no --target, --tag or --exclude with it)"
            )
        if stack_vars is not None and (stack_vars.values or stack_vars.files):
            raise StateError(f"{path} is a saved plan: it takes no --var or --var-file")
        return None, read_plan_file(ctx.cwd / path, str(path))
    stack = read_verb_stack(ctx.cwd, path, allow_include=allow_include, stack_vars=stack_vars)
    return stack, None


def _check_unchanged(
    ctx: Context, plan: Plan, changes: Mapping[str, Change], targeting: Targeting
) -> None:
    """Refuse when what is selected from the staged log now is not what was confirmed."""
    with gc_paused():
        with ctx.store.read() as tx:
            staged, moves = tx.staged.load(), tx.staged.moves()
        now_plan, now = selected(staged, targeting, moves)
    if plan_digest(now_plan, now) != plan_digest(plan, changes):
        raise PlanChangedError(differing(change_digests(changes), change_digests(now)))
