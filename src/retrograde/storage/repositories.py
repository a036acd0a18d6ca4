"""The repositories of a store transaction: small protocols, each with its contract.

A :class:`~retrograde.storage.base.Transaction` holds one of each. Every method
runs inside the transaction it belongs to, so what a caller groups in one
``with store.write() as tx:`` block commits together or not at all. Methods that
change something raise :class:`~retrograde.errors.StateError` in a read
transaction. Driver errors leave as :class:`~retrograde.errors.StoreError`,
unknown revisions, applies and checkpoints as :class:`~retrograde.errors.NotFoundError`.
Batches are a handful of statements whatever their size, never one per row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from retrograde.model.apply import ApplyRecord, ApplyStatus, HandlerOutput
from retrograde.model.change import Change
from retrograde.model.checkpoint import Checkpoint
from retrograde.model.commit import Commit
from retrograde.model.journal import JournalTask, LockGrant, LockHolder, TaskStatus
from retrograde.model.jsonvalue import JSONObject
from retrograde.model.plan import Plan
from retrograde.model.query import LogQuery
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType, TypeKey


@dataclass(frozen=True, slots=True)
class CommitEntry:
    """A finished change, ready to be appended to the log, stamped ``timestamp``."""

    change: Change
    timestamp: str


class StateRepository(Protocol):
    """Committed state (one row per resource) and the stored type definitions."""

    def load(self, names: Collection[str] | None = None) -> dict[str, ResourceState]:
        """Committed state of the named resources (all when None); unknown names are absent."""
        ...

    def apply(self, changes: Sequence[Change]) -> None:
        """Committed state after ``changes`` in order: the last change of a resource wins."""
        ...

    def types(self, keys: Collection[TypeKey] | None = None) -> dict[TypeKey, ResourceType]:
        """Stored type definitions (all when None)."""
        ...

    def save_types(self, types: Collection[ResourceType]) -> None:
        """Insert or replace the definitions of ``types`` (by name and version)."""
        ...


class StagedRepository(Protocol):
    """The staged log: at most one change per resource."""

    def load(self) -> dict[str, Change]:
        """The staged log, by resource name."""
        ...

    def replace(self, changes: Sequence[Change]) -> None:
        """Make ``changes`` the whole staged log."""
        ...

    def discard(self, names: Collection[str] | None = None) -> list[str]:
        """Drop the staged changes of ``names`` (all when None); the names dropped, sorted."""
        ...

    def kinds(self, names: Collection[str]) -> dict[str, TypeKey]:
        """``resource -> (type, version)`` of the staged changes of ``names`` (absent if none)."""
        ...


class LogRepository(Protocol):
    """The append-only commit log, its search index and its reads by revision.

    Revisions are gapless from 1; each commit's hash chains onto the previous
    one; commits are never updated or deleted; timestamps never go back.
    """

    def head(self) -> tuple[int, str]:
        """The newest revision and its hash; ``(0, GENESIS_HASH)`` for an empty log."""
        ...

    def append(
        self, apply_id: int, principal: str, message: str, entries: Sequence[CommitEntry]
    ) -> list[Commit]:
        """One commit per entry, numbered from the head and hashed onto it, plus their index.

        Serialises appenders (so revisions stay gapless across processes). A
        timestamp earlier than the commit before it takes that commit's time.
        Committed state and the staged log are the caller's to update.
        """
        ...

    def get(self, rev: int) -> Commit:
        """The commit of ``rev``."""
        ...

    def get_many(self, revs: Collection[int]) -> list[Commit]:
        """The commits of ``revs``, oldest first; the lowest unknown one is NotFoundError."""
        ...

    def of_apply(self, apply_id: int) -> list[Commit]:
        """Every commit of an apply, oldest first; an unknown apply is NotFoundError."""
        ...

    def between(self, after_rev: int, upto_rev: int) -> list[Commit]:
        """The commits with ``after_rev < rev <= upto_rev``, oldest first."""
        ...

    def batches(self, after_rev: int, upto_rev: int) -> Iterator[list[Commit]]:
        """The same commits as :meth:`between`, a bounded batch at a time (bounded memory)."""
        ...

    def search(self, query: LogQuery) -> list[Commit]:
        """Commits matching ``query``, newest first, at most ``query.limit``, from indexes."""
        ...

    def blame(self, resource: str, names: Collection[str]) -> dict[str, Commit]:
        """For each input in ``names``, the newest commit of ``resource`` that set it.

        Never reads the resource's commits past its ``run``; names no commit set
        are absent.
        """
        ...

    def kinds_before(self, revs: Collection[int]) -> dict[int, TypeKey]:
        """``rev -> (type, version)`` each commit's resource had just before that commit.

        Revisions of commits with no earlier commit of their resource are absent.
        """
        ...


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
        self, principal: str, message: str, timestamp: str, changes: Sequence[Change]
    ) -> ApplyRecord:
        """An apply that ran no handler (e.g. ``migrate`` commits): succeeded, tasks ``done``."""
        ...

    def get(self, apply_id: int) -> ApplyRecord:
        """The apply ``apply_id`` (an unfinished one's counts are its journal's so far)."""
        ...

    def page(self, *, before: int | None = None, limit: int = 50) -> list[ApplyRecord]:
        """Applies newest first, at most ``limit``, only ids below ``before`` when given.

        Counts are true at any time: an unfinished apply's come from its journal.
        """
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


class CheckpointRepository(Protocol):
    """Named, immutable revisions."""

    def add(self, checkpoint: Checkpoint) -> None:
        """Store a checkpoint: a taken name is AlreadyExistsError, a revision outside
        ``0..head`` NotFoundError."""
        ...

    def get(self, name: str) -> Checkpoint:
        """The checkpoint called ``name``."""
        ...

    def list(self) -> list[Checkpoint]:
        """Every checkpoint, by revision then name."""
        ...


class SnapshotRepository(Protocol):
    """Copies of committed state every few thousand revisions, so no question replays the log."""

    def take_if_due(self, before_rev: int, last_rev: int) -> bool:
        """Snapshot committed state at ``last_rev`` when an append from ``before_rev`` crossed
        the interval; committed state must already include the append. Whether one was taken."""
        ...

    def state_at(self, rev: int) -> dict[str, ResourceState]:
        """Committed state as of ``rev`` (0: empty): nearest snapshot plus a short replay.

        ``rev`` outside ``0..head`` is NotFoundError.
        """
        ...

    def all(self) -> Iterator[tuple[int, dict[str, ResourceState]]]:
        """Every snapshot as ``(rev, state)``, oldest first (for verification)."""
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
