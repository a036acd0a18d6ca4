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

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from retrograde.model.apply import ApplyRecord, ApplyStatus
from retrograde.model.change import ActionName, Change
from retrograde.model.checkpoint import Checkpoint
from retrograde.model.commit import Commit
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
    def begin_apply(self, principal: str, message: str, plan: Plan, started_at: str) -> ApplyRecord:
        """Record a running apply and its planned tasks (the journal), all ``pending``.

        Each task takes its type and version from the resource's staged change;
        a planned resource with no staged change is a :class:`StateError`.
        """
        ...

    def record_commits(
        self, apply_id: int, principal: str, message: str, entries: Sequence[CommitEntry]
    ) -> list[Commit]:
        """Commit finished changes: one commit each, atomic with state update and unstaging."""
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

    def close(self) -> None: ...
