"""The ``logs`` verb: what handlers wrote, for one commit or for the actions of an apply.

Handler output is kept beside each commit and each failure (secrets masked,
capped, compressed; see :class:`~retrograde.storage.apply_repositories.OutputRepository`).
When the store-wide cap has dropped an action's output, ``logs`` still lists
the action, marked ``dropped``, so that missing output is never mistaken for
silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from retrograde.commands.context import Context
from retrograde.errors import NotFoundError
from retrograde.model.apply import HandlerOutput, HandlerOutputJSON
from retrograde.model.change import ActionName
from retrograde.model.journal import JournalTask, TaskStatus
from retrograde.model.numbers import check_number
from retrograde.storage.base import Transaction


class LogsJSON(TypedDict):
    """``logs --json``."""

    logs: list[HandlerOutputJSON]


@dataclass(frozen=True, slots=True)
class Logs:
    """The output of the actions asked for, oldest first (``logs --json``).

    ``ran_handler`` is False for a commit no handler made (a ``migrate``
    commit, or one recorded without an apply): it has no output to show.
    """

    entries: tuple[HandlerOutput, ...]
    ran_handler: bool = True

    def to_json(self) -> LogsJSON:
        return {"logs": [entry.to_json() for entry in self.entries]}


def logs(
    ctx: Context,
    rev: int | None = None,
    *,
    apply_id: int | None = None,
    resource: str | None = None,
) -> Logs:
    """The output of the action that made commit ``rev``, or of every attempt of an apply's
    actions (of ``resource``'s only, when given).

    Give ``rev`` or ``apply_id``, not both (ValueError). An unknown revision,
    apply, or a resource the apply did not plan is :class:`NotFoundError`.
    """
    with ctx.store.read() as tx:
        if rev is not None and apply_id is None:
            return _of_commit(tx, check_number("revision", rev))
        if apply_id is not None and rev is None:
            return _of_apply(tx, check_number("apply", apply_id), resource)
    raise ValueError("give a revision or an apply id, not both")


def _of_commit(tx: Transaction, rev: int) -> Logs:
    commit = tx.log.get(rev)
    if commit.apply_id is None or commit.action is ActionName.MIGRATE:
        return Logs((), ran_handler=False)
    found = tx.output.of_rev(rev)
    if found is not None:
        return Logs((found,))
    if rev > tx.output.dropped().rev:
        return Logs(())
    attempt = max(1, _attempts(tx, commit.apply_id, commit.resource))
    lost = HandlerOutput(commit.apply_id, commit.resource, attempt, True, rev=rev, dropped=True)
    return Logs((lost,))


def _attempts(tx: Transaction, apply_id: int, resource: str) -> int:
    return next((t.attempts for t in tx.applies.tasks(apply_id) if t.resource == resource), 1)


def _of_apply(tx: Transaction, apply_id: int, resource: str | None) -> Logs:
    tx.applies.get(apply_id)
    tasks = [t for t in tx.applies.tasks(apply_id) if resource in (None, t.resource)]
    if resource is not None and not tasks:
        raise NotFoundError("resource of this apply", resource)
    kept = tx.output.of_apply(apply_id, resource)
    if apply_id > tx.output.dropped().apply_id:
        return Logs(tuple(kept))
    held = {(entry.resource, entry.attempt) for entry in kept}
    lost = [
        HandlerOutput(apply_id, task.resource, attempt, _succeeded(task, attempt), dropped=True)
        for task in tasks
        for attempt in range(1, task.attempts + 1)
        if (task.resource, attempt) not in held
    ]
    return Logs((*lost, *kept))


def _succeeded(task: JournalTask, attempt: int) -> bool:
    """Whether ``attempt`` of ``task`` succeeded: only its last, and only if the task is done."""
    return task.status is TaskStatus.DONE and attempt == task.attempts
