"""The repositories of a store transaction that keep applies, their handlers' output and the
store lock.

See :mod:`retrograde.storage.repositories` for what holds for every repository.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from retrograde.model.apply import ApplyKind, ApplyRecord, ApplyStatus, HandlerOutput
from retrograde.model.change import Change
from retrograde.model.journal import JournalTask, LockGrant, LockHolder, TaskStatus
from retrograde.model.jsonvalue import JSONObject
from retrograde.model.plan import Plan


class AppliesRepository(Protocol):
    """Apply records and their journal (one task per planned action): the one home of both.

    Apply statuses move as :data:`retrograde.model.apply.TRANSITIONS` allows
    and task statuses as :data:`retrograde.model.journal.TASK_TRANSITIONS`
    allows; anything else is a StateError. Setting the status an apply already
    has is a no-op.
    """

    def begin(self, principal: str, message: str, started_at: str, plan: Plan) -> ApplyRecord:
        """A ``running`` apply with one ``pending`` task per planned action.

        Each task takes its type and version from the resource's staged change;
        a planned resource with no staged change is a StateError.
        """
        ...

    def record(
        self,
        principal: str,
        message: str,
        timestamp: str,
        changes: Sequence[Change],
        kind: ApplyKind = ApplyKind.MIGRATE,
    ) -> ApplyRecord:
        """An apply that ran no handler, of ``kind`` (``migrate``, ``observe``, ``move``,
        ``adopt`` commits): succeeded, tasks ``done``."""
        ...

    def get(self, apply_id: int) -> ApplyRecord:
        """The apply ``apply_id`` (an unfinished one's counts are its journal's so far)."""
        ...

    def page(self, *, before: int | None = None, limit: int = 50) -> list[ApplyRecord]:
        """Applies newest first, at most ``limit``, only ids below ``before`` when given.

        Counts are true at any time: an unfinished apply's come from its journal.
        """
        ...

    def exported(self, ids: Collection[int]) -> list[JSONObject]:
        """The records of applies ``ids`` by id: ``to_json()`` fields plus ``host`` and ``pid``."""
        ...

    def load(self, records: Sequence[JSONObject]) -> None:
        """Insert records of :meth:`exported`'s shape with their ids (import); later
        applies take ids after them."""
        ...

    def unfinished(self) -> list[ApplyRecord]:
        """Applies whose status is ``running`` or ``interrupted``, oldest first."""
        ...

    def set_status(self, apply_id: int, status: ApplyStatus) -> ApplyRecord:
        """Move an apply to ``status``."""
        ...

    def finish(self, apply_id: int, status: ApplyStatus, *, ended_at: str) -> ApplyRecord:
        """Close an apply with ``status``; counts and failures come from its tasks.

        Unfinished tasks (pending or started) become ``skipped`` first.
        """
        ...

    def tasks(self, apply_id: int) -> list[JournalTask]:
        """The tasks of the apply, in plan order."""
        ...

    def mark(self, apply_id: int, names: Collection[str], status: TaskStatus) -> None:
        """Move the tasks ``names`` to ``status`` (set-based, a few statements per call)."""
        ...

    def start(self, apply_id: int, attempts: Mapping[str, int]) -> None:
        """Journal the tasks about to run as ``started`` with their attempt number."""
        ...

    def fail(self, apply_id: int, failures: Mapping[str, JSONObject]) -> None:
        """Journal final failures (``{"exit_code", "error"}`` of the last attempt)."""
        ...

    def drop_tasks(self, apply_id: int, names: Collection[str]) -> None:
        """Delete the tasks ``names`` (a resumption that no longer plans them)."""
        ...

    def add_tasks(self, apply_id: int, changes: Sequence[Change]) -> None:
        """New ``pending`` tasks for ``changes``, after the apply's last position."""
        ...

    def retype_tasks(self, apply_id: int, changes: Sequence[Change]) -> None:
        """The tasks of ``changes`` take their change's type and version."""
        ...


class LockRepository(Protocol):
    """The store lock: one holder at a time, with a lease on the database clock."""

    def acquire(self, holder: LockHolder, lease_seconds: float) -> LockGrant:
        """Take the lock for ``holder``, taking it over from a dead holder.

        A live holder (pid alive on this host, or on another host with an
        unexpired lease) is :class:`~retrograde.errors.StoreLockedError` naming it.
        """
        ...

    def refresh(self, grant: LockGrant, *, apply_id: int | None = None) -> None:
        """Extend the lease (and record ``apply_id``); LockLostError if not held."""
        ...

    def release(self, grant: LockGrant) -> None:
        """Free the lock if ``grant`` still holds it; otherwise do nothing."""
        ...

    def holder(self) -> LockHolder | None:
        """Who holds the lock now (possibly a dead holder), or None when it is free."""
        ...

    def force_free(self) -> LockHolder | None:
        """Free the lock whoever holds it; returns the holder it had, if any."""
        ...


@dataclass(frozen=True, slots=True)
class OutputDropped:
    """How far the store-wide cap has dropped output: the newest revision and apply whose
    output it removed (0 when it removed none). Output is dropped oldest first, so a
    commit at or below ``rev`` without output lost it to the cap."""

    rev: int = 0
    apply_id: int = 0


class OutputRepository(Protocol):
    """What handlers wrote, one entry per attempt of an action, beside its commit or failure.

    Outside the hash chain and never exported. The store keeps at most a
    configured number of compressed bytes (``RETROGRADE_LOG_CAP``); the
    oldest output goes first.
    """

    def add(self, outputs: Sequence[HandlerOutput]) -> None:
        """Keep ``outputs``; then, past the cap, drop the oldest output, in this transaction.

        Dropping is one bounded read and one bounded delete, never a statement per row.
        """
        ...

    def of_rev(self, rev: int) -> HandlerOutput | None:
        """The output of the attempt that made commit ``rev``, if the store holds it."""
        ...

    def of_apply(self, apply_id: int, resource: str | None = None) -> list[HandlerOutput]:
        """The output held of an apply's attempts (or of one resource's), oldest first."""
        ...

    def dropped(self) -> OutputDropped:
        """How far the store-wide cap has dropped output."""
        ...
