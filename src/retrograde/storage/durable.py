"""The store methods of durable applies: the lock, interrupted applies, resuming, migrations.

:class:`DurableMethods` is a base class of
:class:`~retrograde.storage.sql.SqlStore`; each method is one transaction over
the connection hooks SqlStore provides, and calls the query functions of
:mod:`~retrograde.storage.locks` and :mod:`~retrograde.storage.journal`.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager

from sqlalchemy import Connection

from retrograde.model.apply import ApplyRecord, ApplyStatus
from retrograde.model.change import Change
from retrograde.model.commit import Commit
from retrograde.model.types import ResourceType
from retrograde.storage import journal as journaling
from retrograde.storage import locks
from retrograde.storage.base import (
    CommitEntry,
    JournalEdit,
    JournalUpdate,
    LockGrant,
    LockHolder,
    MigrationBatch,
)


class DurableMethods(ABC):
    """Lock, journal and migration methods of the Store contract (see storage/base.py)."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Connection]:
        """A connection for reading."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[Connection]:
        """A connection inside one write transaction."""

    @abstractmethod
    def _commit_entries(
        self,
        conn: Connection,
        apply_id: int,
        principal: str,
        message: str,
        entries: Sequence[CommitEntry],
    ) -> list[Commit]:
        """Write commits with their state updates and unstaging, inside ``conn``'s transaction."""

    @abstractmethod
    def _replace_staged_in(
        self, conn: Connection, changes: Sequence[Change], types: Iterable[ResourceType]
    ) -> None:
        """``replace_staged`` inside ``conn``'s transaction."""

    # the store lock

    def acquire_lock(self, holder: LockHolder, lease_seconds: float) -> LockGrant:
        with self._write() as conn:
            return locks.acquire(conn, holder, lease_seconds, socket.gethostname())

    def refresh_lock(self, grant: LockGrant, *, apply_id: int | None = None) -> None:
        with self._write() as conn:
            locks.refresh(conn, grant, apply_id)

    def release_lock(self, grant: LockGrant) -> None:
        with self._write() as conn:
            locks.release(conn, grant)

    def lock_holder(self) -> LockHolder | None:
        with self._read() as conn:
            return locks.holder_of(locks.lock_row(conn))

    def lock_is_stale(self) -> bool:
        with self._read() as conn:
            row = locks.lock_row(conn)
        held = row["token"] is not None
        return held and locks.is_stale(row, float(row["now"]), socket.gethostname())

    def force_unlock(self) -> LockHolder | None:
        with self._write() as conn:
            return locks.force_free(conn)

    # interrupted applies

    def unfinished_applies(self) -> list[ApplyRecord]:
        with self._read() as conn:
            return journaling.unfinished_applies(conn)

    def set_apply_status(self, apply_id: int, status: ApplyStatus) -> ApplyRecord:
        with self._write() as conn:
            return journaling.set_status(conn, apply_id, status)

    def resume_apply(self, apply_id: int, journal: JournalUpdate) -> ApplyRecord:
        with self._write() as conn:
            return journaling.resume(conn, apply_id, journal)

    def restage(
        self,
        changes: Sequence[Change],
        types: Iterable[ResourceType],
        *,
        migrations: MigrationBatch | None = None,
        journal: JournalEdit | None = None,
    ) -> list[Commit]:
        with self._write() as conn:
            written = _migrate(self, conn, migrations) if migrations else []
            self._replace_staged_in(conn, changes, types)
            if journal is not None:
                journaling.edit_tasks(conn, journal, {c.resource: c for c in changes})
        return written

    def abandon_apply(self, apply_id: int, ended_at: str) -> ApplyRecord:
        with self._write() as conn:
            return journaling.abandon(conn, apply_id, ended_at)


def _migrate(store: DurableMethods, conn: Connection, batch: MigrationBatch) -> list[Commit]:
    """The batch's apply record, then its commits (state updated, nothing to unstage)."""
    apply_id = journaling.insert_migration_apply(conn, batch)
    entries = [CommitEntry(change, batch.timestamp) for change in batch.changes]
    return store._commit_entries(conn, apply_id, batch.principal, batch.message, entries)
