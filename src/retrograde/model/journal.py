"""The apply journal and the store lock as values: task statuses, journaled tasks, lock holders.

A running apply journals one task per planned action. A task's status moves
only along :data:`TASK_TRANSITIONS` (the store refuses anything else), so the
journal always says what resume may rely on: ``done`` tasks have their commit,
``started`` ones may or may not have done their work, ``pending`` ones never
began.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict

from retrograde.model.change import ActionName
from retrograde.model.jsonvalue import JSONObject


class TaskStatus(StrEnum):
    """Where one planned action of an apply stands in the journal."""

    PENDING = "pending"
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


TASK_TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PENDING: frozenset({TaskStatus.STARTED, TaskStatus.SKIPPED}),
    TaskStatus.STARTED: frozenset(
        {
            TaskStatus.STARTED,
            TaskStatus.DONE,
            TaskStatus.FAILED,
            TaskStatus.SKIPPED,
            TaskStatus.PENDING,
        }
    ),
    TaskStatus.FAILED: frozenset(),
    TaskStatus.SKIPPED: frozenset({TaskStatus.SKIPPED}),
    TaskStatus.DONE: frozenset(),
}
"""Allowed status changes of a task. ``started -> started`` is another attempt (a retry, or a
re-run after a crash); ``skipped -> skipped`` lets a resumed apply skip again what waits for an
earlier failure; ``started -> pending`` returns an action journaled ahead whose handler never
began when a run stops."""

OPEN_TASKS = frozenset({TaskStatus.PENDING, TaskStatus.STARTED})
"""Tasks that have not finished: an abandoned apply skips them, a resumed one runs them."""


def sources_of(status: TaskStatus) -> frozenset[TaskStatus]:
    """The statuses a task may move to ``status`` from."""
    return frozenset(old for old, new in TASK_TRANSITIONS.items() if status in new)


@dataclass(frozen=True, slots=True)
class JournalTask:
    """One planned action as journaled: what resume compares and continues.

    ``type`` and ``version`` are the resource type the action was planned
    with; ``position`` is its index in the plan.
    """

    resource: str
    action: ActionName
    type: str
    version: int
    position: int
    status: TaskStatus
    attempts: int = 0
    """How many times its handler was started, over the whole apply (resumes included)."""
    error: JSONObject | None = None
    """For a failed task: ``{"exit_code", "error"}`` of its last attempt."""


class LockHolderJSON(TypedDict):
    """A lock holder in ``unlock --json`` and in lock refusals."""

    activity: str
    principal: str
    host: str
    pid: int
    since: str
    apply_id: int | None


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds the store lock (or asks for it), as shown in a refusal.

    ``activity`` says what the holder is doing (``apply``, ``stage``, ``resume``
    ...); ``since`` is when it took the lock (UTC, the log's format).
    """

    activity: str
    principal: str
    host: str
    pid: int
    since: str
    apply_id: int | None = None

    def to_json(self) -> LockHolderJSON:
        return {
            "activity": self.activity,
            "principal": self.principal,
            "host": self.host,
            "pid": self.pid,
            "since": self.since,
            "apply_id": self.apply_id,
        }

    def doing(self) -> str:
        """``apply 3``, ``resume of apply 3``, ``stage``: what the holder does, for messages."""
        if self.apply_id is None:
            return self.activity
        if self.activity == "apply":
            return f"apply {self.apply_id}"
        return f"{self.activity} of apply {self.apply_id}"


@dataclass(frozen=True, slots=True)
class LockGrant:
    """A held store lock: its ``token`` proves ownership in every later call.

    ``taken_over`` is the previous holder when it was dead (its pid gone on this
    host, or its lease expired) and the lock was taken from it.
    """

    token: str
    lease_seconds: float
    taken_over: LockHolder | None = None
