"""The store contract: committed state, staged log, applies and the append-only commit log.

One SQLAlchemy Core implementation (:mod:`retrograde.storage.sql`) serves SQLite
and PostgreSQL; the contract suite in ``tests/storage`` runs against both.

Contract for every implementation:

- Every method is atomic: it fully happens or not at all.
- ``record_commits`` writes each commit in the same transaction as the
  committed-state update and the staged-change removal for its resource, and
  assigns gapless increasing revisions chained by hash. Several entries may
  share one transaction (group commit).
- Commits are never updated or deleted.
- Driver errors are raised as :class:`retrograde.errors.StoreError`; unknown
  revisions or applies as :class:`retrograde.errors.NotFoundError`.
- A store object is used from one thread at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from retrograde.model.apply import ApplyRecord, ApplyStatus
from retrograde.model.change import ActionName, Change
from retrograde.model.checkpoint import Checkpoint
from retrograde.model.commit import Commit
from retrograde.model.history import Blame, TransferReport, VerifyReport
from retrograde.model.jsonvalue import JSON
from retrograde.model.plan import Plan
from retrograde.model.query import LogQuery
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType

TypeKey = tuple[str, int]
"""A resource type is stored per ``(name, version)``."""


@dataclass(frozen=True, slots=True)
class CommitEntry:
    """A finished change, ready to be committed by ``record_commits``."""

    change: Change
    timestamp: str


class TaskStatus(StrEnum):
    """Where one planned action of an apply stands in the journal."""

    PENDING = "pending"
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class JournalTask:
    """One planned action as journaled by ``begin_apply``: what resume compares and continues.

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
    error: Mapping[str, JSON] | None = None
    """For a failed task: ``{"exit_code", "error"}`` of its last attempt."""


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

    def to_json(self) -> dict[str, JSON]:
        return {
            "activity": self.activity,
            "principal": self.principal,
            "host": self.host,
            "pid": self.pid,
            "since": self.since,
            "apply_id": self.apply_id,
        }


@dataclass(frozen=True, slots=True)
class LockGrant:
    """A held store lock: its ``token`` proves ownership in every later call.

    ``taken_over`` is the previous holder when it was dead (its pid gone on this
    host, or its lease expired) and the lock was taken from it.
    """

    token: str
    lease_seconds: float
    taken_over: LockHolder | None = None


@dataclass(frozen=True, slots=True)
class JournalUpdate:
    """What one turn of a running apply journals, in the transaction of its commits.

    ``started`` maps the tasks dispatched next to their attempt number (so
    attempts are journaled when they begin); ``failed`` holds each final
    failure's ``{"exit_code", "error"}``; ``skipped`` the tasks that will not
    run. With ``lock``, the lease is refreshed, and the whole transaction is
    refused with :class:`LockLostError` when the lock is no longer held.
    """

    started: Mapping[str, int] = field(default_factory=dict)
    failed: Mapping[str, Mapping[str, JSON]] = field(default_factory=dict)
    skipped: Collection[str] = ()
    lock: LockGrant | None = None

    def __bool__(self) -> bool:
        return bool(self.started or self.failed or self.skipped or self.lock)


@dataclass(frozen=True, slots=True)
class MigrationBatch:
    """``migrate`` changes (committed inputs moved to a new type version), committed as one
    apply of their own, by ``principal`` with ``message``, at ``timestamp``."""

    changes: Sequence[Change]
    principal: str
    message: str
    timestamp: str


@dataclass(frozen=True, slots=True)
class JournalEdit:
    """How resuming against a stack file changes an interrupted apply's tasks.

    ``dropped`` tasks are deleted; ``added`` resources join as new pending
    tasks; ``changed`` tasks take their staged change's type and version.
    """

    apply_id: int
    dropped: Collection[str] = ()
    added: Sequence[str] = ()
    changed: Collection[str] = ()


class Store(Protocol):
    url: str

    # committed state and types
    def load_state(self, names: Collection[str] | None = None) -> dict[str, ResourceState]:
        """Committed state of the named resources (all when None); unknown names are absent."""
        ...

    def load_types(self, keys: Collection[TypeKey] | None = None) -> dict[TypeKey, ResourceType]:
        """Stored type definitions (all when None)."""
        ...

    # staged log
    def replace_staged(self, changes: Sequence[Change], types: Iterable[ResourceType]) -> None:
        """Make ``changes`` the whole staged log and upsert ``types``, in one transaction."""
        ...

    def load_staged(self) -> dict[str, Change]:
        """The staged log, by resource name."""
        ...

    def discard_staged(self, names: Collection[str] | None = None) -> list[str]:
        """Drop staged changes (all when None); returns the names dropped, sorted."""
        ...

    # applies and commits
    def begin_apply(
        self,
        principal: str,
        message: str,
        plan: Plan,
        started_at: str,
        *,
        started: Collection[str] = (),
        grant: LockGrant | None = None,
    ) -> ApplyRecord:
        """Record a running apply and its planned tasks (the journal), all ``pending``.

        Each task takes its type and version from the resource's staged change;
        a planned resource with no staged change is a :class:`StateError`. The
        tasks named in ``started`` (the first wave) are journaled ``started``
        (attempt 1) instead; with ``grant``, the lock records the apply's id.
        """
        ...

    def record_commits(
        self,
        apply_id: int,
        principal: str,
        message: str,
        entries: Sequence[CommitEntry],
        journal: JournalUpdate | None = None,
    ) -> list[Commit]:
        """Commit finished changes: one commit each, atomic with state update and unstaging.

        The committed tasks become ``done``; ``journal`` adds the rest of the
        runner's turn to the same transaction (see :class:`JournalUpdate`).
        """
        ...

    def finish_apply(
        self,
        apply_id: int,
        status: ApplyStatus,
        *,
        ended_at: str,
        succeeded: int,
        failed: int,
        skipped: int,
        failures: Mapping[str, JSON],
    ) -> ApplyRecord:
        """Close an apply with its outcome."""
        ...

    def get_apply(self, apply_id: int) -> ApplyRecord: ...

    # the journal
    def mark_tasks(self, apply_id: int, resources: Collection[str], status: str) -> None:
        """Set the journal status (``pending|started|done|failed|skipped``) of some tasks.

        ``status`` is a :class:`TaskStatus` or its value; names the apply did
        not plan are ignored.
        """
        ...

    def load_tasks(self, apply_id: int) -> list[JournalTask]:
        """The journaled tasks of the apply, in plan order."""
        ...

    # reading the log
    def head(self) -> tuple[int, str]:
        """The newest revision and its hash; ``(0, GENESIS_HASH)`` for an empty log."""
        ...

    def get_commit(self, rev: int) -> Commit: ...

    def log(self, query: LogQuery) -> list[Commit]:
        """Commits matching ``query``, newest first, at most ``query.limit``."""
        ...

    # reverting and time travel
    def get_commits(self, revs: Collection[int]) -> list[Commit]:
        """The commits of ``revs``, oldest first; an unknown revision is :class:`NotFoundError`."""
        ...

    def apply_commits(self, apply_id: int) -> list[Commit]:
        """Every commit of an apply, oldest first; an unknown apply is :class:`NotFoundError`."""
        ...

    def kinds_before(self, revs: Collection[int]) -> dict[int, TypeKey]:
        """``rev -> (type, version)`` each commit's resource had just before that commit.

        Revisions of commits with no earlier commit of their resource are absent.
        """
        ...

    def state_at(self, rev: int) -> dict[str, ResourceState]:
        """Committed state as of revision ``rev`` (0: empty), from a snapshot plus a short replay.

        Never replays the whole log. ``rev`` outside ``0..head`` is :class:`NotFoundError`.
        """
        ...

    # checkpoints
    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Store a checkpoint: a taken name is :class:`AlreadyExistsError`, a revision
        outside ``0..head`` :class:`NotFoundError`."""
        ...

    def get_checkpoint(self, name: str) -> Checkpoint:
        """The checkpoint called ``name``, or :class:`NotFoundError`."""
        ...

    def list_checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, by revision then name."""
        ...

    # durability: the store lock, interrupted applies, migrations
    def acquire_lock(self, holder: LockHolder, lease_seconds: float) -> LockGrant:
        """Take the store lock for ``holder``, taking it over from a dead holder.

        A live holder (pid alive on this host, or on another host with an
        unexpired lease) makes this raise :class:`StoreLockedError` naming it.
        """
        ...

    def refresh_lock(self, grant: LockGrant, *, apply_id: int | None = None) -> None:
        """Extend the lease (and record ``apply_id``); :class:`LockLostError` if not held."""
        ...

    def release_lock(self, grant: LockGrant) -> None:
        """Free the lock if ``grant`` still holds it; otherwise do nothing."""
        ...

    def lock_holder(self) -> LockHolder | None:
        """Who holds the lock now (possibly a dead holder), or None when it is free."""
        ...

    def lock_is_stale(self) -> bool:
        """Whether the lock is held by a holder that is gone (dead pid here, or lease expired)."""
        ...

    def force_unlock(self) -> LockHolder | None:
        """Free the lock whoever holds it; returns the holder it had, if any."""
        ...

    def unfinished_applies(self) -> list[ApplyRecord]:
        """Applies whose status is ``running`` or ``interrupted``, oldest first."""
        ...

    def set_apply_status(self, apply_id: int, status: ApplyStatus) -> ApplyRecord:
        """Move an apply to ``status`` as the transition table allows (else StateError)."""
        ...

    def resume_apply(self, apply_id: int, journal: JournalUpdate) -> ApplyRecord:
        """Set an interrupted apply running again, with ``journal`` (the tasks started
        first, the ones skipped from the start, the lock) in the same transaction."""
        ...

    def restage(
        self,
        changes: Sequence[Change],
        types: Iterable[ResourceType],
        *,
        migrations: MigrationBatch | None = None,
        journal: JournalEdit | None = None,
    ) -> list[Commit]:
        """``replace_staged`` plus, in the same transaction, the ``migrate`` commits of
        ``migrations`` (written first, with their committed-state updates) and the task
        edits of ``journal``; returns the migrate commits."""
        ...

    def abandon_apply(self, apply_id: int, ended_at: str) -> ApplyRecord:
        """End an interrupted apply as ``failed``; its unfinished tasks become ``skipped``."""
        ...

    # history: applies, blame, export, import, verification
    def list_applies(self, *, before: int | None = None, limit: int = 50) -> list[ApplyRecord]:
        """Applies newest first, at most ``limit``, only ids below ``before`` when given."""
        ...

    def blame(self, resource: str) -> Blame:
        """For each input of ``resource`` (in committed state, else :class:`NotFoundError`),
        the newest commit that set it; never reads the resource's commits past its ``run``."""
        ...

    def export_log(
        self, write: Callable[[bytes], object], *, after_rev: int, exported_at: str
    ) -> TransferReport:
        """Write one export segment (docs/history.md) with the commits after ``after_rev``
        up to the head, reading a batch at a time; ``after_rev`` outside ``0..head`` is
        :class:`NotFoundError`."""
        ...

    def import_log(self, lines: Iterable[bytes], *, source: str) -> TransferReport:
        """Load export ``lines`` into this store, which must be empty (else :class:`StateError`),
        checking every line and hash (:class:`CorruptLogError` naming ``source``, line and rev);
        all or nothing."""
        ...

    def verify(self) -> VerifyReport:
        """Recompute the hash chain, replay the log and compare with committed state."""
        ...

    def close(self) -> None: ...
