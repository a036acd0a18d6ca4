"""The resume verb: continue an interrupted apply, optionally against a newer stack file.

An apply that died (SIGKILL, power loss, a lost session) stays ``running`` in
the store; the next verb that takes the store lock marks it ``interrupted``.
``resume`` continues it under the same apply id:

- actions already committed (``done``) are not run again;
- actions that were in flight (journaled ``started`` but not committed) are
  run again: handlers must be idempotent. They are listed in ``rerun``;
- actions that failed before the interruption stay failed (their changes
  stay staged for the next apply), and so do the actions they skipped.

With a stack file, that file's definitions are the current ones: the
unfinished tasks are reconciled with what it stages (removed, then added, then
changed versions; see :mod:`retrograde.planning.resumption`), committed inputs
are migrated to raised type versions first, and everything done is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive, interrupted_applies
from retrograde.commands.migration_steps import StepRegistry
from retrograde.commands.planning import plan_for
from retrograde.commands.stack_staging import stack_changes, write_staging
from retrograde.commands.stackfiles import StackVars, read_verb_stack
from retrograde.commands.views import Secrets, commit_json
from retrograde.engine.cancel import CancelToken
from retrograde.engine.faults import configured_fault
from retrograde.engine.runner import (
    ApplyReport,
    ApplyReportJSON,
    Earlier,
    Job,
    Progress,
    RunOptions,
    run,
)
from retrograde.errors import CorruptLogError, StateError
from retrograde.executors.registry import DEFAULT_EXECUTOR, executor_for
from retrograde.executors.wire_secrets import WireSecrets
from retrograde.model.apply import ApplyRecord
from retrograde.model.change import Change
from retrograde.model.commit import Commit, CommitJSON
from retrograde.model.journal import OPEN_TASKS, JournalTask, LockGrant, TaskStatus
from retrograde.planning.resumption import ResumptionStep, ResumptionStepJSON, reconcile
from retrograde.planning.stackfile import Stack
from retrograde.storage.sealing import Opener


class ResumeView(ApplyReportJSON):
    """``resume --json``: the apply's report plus what resuming did."""

    rerun: list[str]
    resumption: list[ResumptionStepJSON]
    migrations: list[CommitJSON]


@dataclass(frozen=True, slots=True)
class ResumeReport:
    """What resuming came to (``resume --json``): the apply's report plus what resume did.

    ``rerun`` names the actions that were in flight and ran again;
    ``resumption`` lists the reconciliation steps (with a stack file);
    ``migrations`` the ``migrate`` commits written first.
    """

    report: ApplyReport
    rerun: tuple[str, ...] = ()
    resumption: tuple[ResumptionStep, ...] = ()
    migrations: tuple[Commit, ...] = ()

    def to_json(self, secrets: Secrets) -> ResumeView:
        """``resume --json``, secret inputs of the migration commits as ``***``."""
        return {
            **self.report.to_json(),
            "rerun": list(self.rerun),
            "resumption": [step.to_json() for step in self.resumption],
            "migrations": [commit_json(commit, secrets) for commit in self.migrations],
        }


def resume(
    ctx: Context,
    path: Path | None = None,
    *,
    jobs: int = 4,
    executor: str = DEFAULT_EXECUTOR,
    progress: Progress | None = None,
    registry: StepRegistry | None = None,
    cancel: CancelToken | None = None,
    allow_include: Sequence[Path] = (),
    stack_vars: StackVars | None = None,
) -> ResumeReport:
    """Continue the interrupted apply (against the stack file ``path`` when given).

    Raises :class:`StateError` when no apply was interrupted,
    :class:`StoreLockedError` while another process holds the store, and
    :class:`MigrationPathError` (before anything is written) when a task's type
    version changed and the type declares no migration between the versions.
    """
    stack = None
    if path is not None:
        stack = read_verb_stack(ctx.cwd, path, allow_include=allow_include, stack_vars=stack_vars)
    with exclusive(ctx, "resume", allow_interrupted=True) as grant:
        record = _interrupted(ctx)
        steps: tuple[ResumptionStep, ...] = ()
        migrations: tuple[Commit, ...] = ()
        if stack is not None:
            steps, migrations = _reconcile(ctx, record, stack, registry)
        with ctx.store.read() as tx:
            tasks = tx.applies.tasks(record.id)
        rerun = tuple(t.resource for t in tasks if t.status is TaskStatus.STARTED)
        report = _continue(ctx, record, tasks, grant, jobs, executor, progress, cancel)
    return ResumeReport(report, rerun, steps, migrations)


def _interrupted(ctx: Context) -> ApplyRecord:
    with ctx.store.write() as tx:
        found = interrupted_applies(tx)
    if not found:
        raise StateError("nothing to resume: no apply was interrupted")
    return found[0]


def _reconcile(
    ctx: Context, record: ApplyRecord, stack: Stack, registry: StepRegistry | None
) -> tuple[tuple[ResumptionStep, ...], tuple[Commit, ...]]:
    """Reconcile the apply's tasks with ``stack``, then write it all in one transaction."""
    found = stack_changes(ctx, stack, registry)
    with ctx.store.read() as tx:
        stored = tx.applies.tasks(record.id)
    resumption = reconcile(record.id, stored, found.changes, found.planner)
    with ctx.store.write() as tx:
        written = write_staging(tx, stack, found, ctx.principal)
        tx.applies.drop_tasks(record.id, resumption.dropped)
        tx.applies.add_tasks(record.id, [found.changes[n] for n in resumption.added])
        tx.applies.retype_tasks(record.id, [found.changes[n] for n in resumption.changed])
    return resumption.steps, tuple(written)


def _continue(
    ctx: Context,
    record: ApplyRecord,
    tasks: Sequence[JournalTask],
    grant: LockGrant,
    jobs: int,
    executor: str,
    progress: Progress | None,
    cancel: CancelToken | None,
) -> ApplyReport:
    """Run the apply's unfinished tasks under its own id."""
    with ctx.store.read() as tx:
        changes = _remaining_changes(record, tasks, tx.staged.load())
        types = tx.state.types()
    opener = Opener(ctx.keys.box)
    wire = WireSecrets(ctx.keys, opener)
    runner = executor_for(executor, jobs, scope=ctx.store.url, secrets=wire)
    try:
        options = RunOptions(
            ctx.principal,
            record.message,
            runner,
            progress=progress,
            lock=grant,
            faults=configured_fault(),
            cancel=cancel or CancelToken(),
        )
        job = Job(
            plan_for(changes),
            changes,
            types,
            apply_id=record.id,
            earlier=_earlier(tasks),
            reveal=opener.change,
        )
        return run(ctx.store, job, options)
    finally:
        runner.shutdown()


def _remaining_changes(
    record: ApplyRecord, tasks: Sequence[JournalTask], staged: Mapping[str, Change]
) -> dict[str, Change]:
    """The staged changes of the unfinished tasks (each must still be staged), and of the
    failed ones still staged, so that what waits for them is skipped."""
    names = [t.resource for t in tasks if t.status in OPEN_TASKS]
    missing = [name for name in names if name not in staged]
    if missing:
        raise CorruptLogError(
            f"apply {record.id} cannot be resumed: {missing[0]!r} has no staged change",
            resource=missing[0],
        )
    failed = [t.resource for t in tasks if t.status is TaskStatus.FAILED and t.resource in staged]
    return {name: staged[name] for name in [*names, *failed]}


def _earlier(tasks: Sequence[JournalTask]) -> Earlier:
    return Earlier(
        done=sum(1 for t in tasks if t.status is TaskStatus.DONE),
        failures={t.resource: dict(t.error or {}) for t in tasks if t.status is TaskStatus.FAILED},
        skipped=tuple(t.resource for t in tasks if t.status is TaskStatus.SKIPPED),
        attempts={t.resource: t.attempts for t in tasks},
    )
