"""The store: a transaction boundary over committed state, the staged log, applies and the log.

``store.read()`` and ``store.write()`` open a :class:`Transaction`; its
repositories (:mod:`retrograde.storage.repositories`) each do one job, and a
caller groups work explicitly::

    with store.write() as tx:
        commits = tx.log.append(apply_id, principal, message, entries)
        tx.state.apply(changes)
        tx.staged.discard(names)

Contract for every implementation:

- ``write()`` is one transaction, committed when the block ends normally and
  rolled back when it raises. Writers are serialised (SQLite: ``BEGIN
  IMMEDIATE``, waiting on the busy timeout; PostgreSQL: row and table locks).
- ``read()`` sees one consistent moment of the store (PostgreSQL: REPEATABLE
  READ READ ONLY; SQLite: one read transaction on the WAL) and never writes.
  Anything that polls uses short read transactions.
- A store object may be shared by threads; a transaction belongs to the
  thread that opened it.

One SQLAlchemy Core implementation (:mod:`retrograde.storage.sql`) serves
SQLite and PostgreSQL; the contract suite in ``tests/storage`` runs on both.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from retrograde.storage.apply_repositories import (
    AppliesRepository,
    LockRepository,
    OutputRepository,
)
from retrograde.storage.repositories import (
    ChainRepository,
    CheckpointRepository,
    KeysRepository,
    LogRepository,
    SnapshotRepository,
    StateRepository,
)
from retrograde.storage.staged_repository import StagedRepository
from retrograde.storage.token_repository import TokenRepository


class Transaction(Protocol):
    """One transaction's repositories (see :mod:`retrograde.storage.repositories`)."""

    @property
    def state(self) -> StateRepository: ...

    @property
    def staged(self) -> StagedRepository: ...

    @property
    def log(self) -> LogRepository: ...

    @property
    def applies(self) -> AppliesRepository: ...

    @property
    def lock(self) -> LockRepository: ...

    @property
    def checkpoints(self) -> CheckpointRepository: ...

    @property
    def snapshots(self) -> SnapshotRepository: ...

    @property
    def output(self) -> OutputRepository: ...

    @property
    def keys(self) -> KeysRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def chain(self) -> ChainRepository: ...


class Store(Protocol):
    """An open store (see the module docstring)."""

    url: str

    def read(self) -> AbstractContextManager[Transaction]:
        """A read-only transaction on one consistent moment of the store."""
        ...

    def write(self) -> AbstractContextManager[Transaction]:
        """A write transaction: all of the block or nothing."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...

    def scrub(self) -> None:
        """Leave no freed page of overwritten values in the store's files (after secrets held
        in clear were sealed): SQLite rebuilds its file, PostgreSQL the rewritten tables."""
        ...
