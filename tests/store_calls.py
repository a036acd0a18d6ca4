"""One-transaction shorthands for tests: each opens a read (or write) transaction, does one
thing through the store's repositories, and returns the answer."""

from __future__ import annotations

import socket
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import inspect

from retrograde.engine.committing import commit_changes
from retrograde.history.verify import verify_log
from retrograde.model.apply import ApplyRecord, ApplyStatus
from retrograde.model.chain import ChainEntry
from retrograde.model.change import Change
from retrograde.model.checkpoint import Checkpoint
from retrograde.model.commit import Commit
from retrograde.model.journal import JournalTask, LockGrant, LockHolder, TaskStatus
from retrograde.model.plan import Plan
from retrograde.model.query import LogQuery
from retrograde.model.reports import VerifyReport
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType, TypeKey
from retrograde.storage.base import Store
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sql import locks
from retrograde.storage.sql.transaction import sql_connection


def head(store: Store) -> tuple[int, str]:
    with store.read() as tx:
        return tx.log.head()


def chain_entries(store: Store) -> list[ChainEntry]:
    with store.read() as tx:
        return list(tx.chain.entries())


def load_state(store: Store, names: Collection[str] | None = None) -> dict[str, ResourceState]:
    with store.read() as tx:
        return tx.state.load(names)


def load_types(
    store: Store, keys: Collection[TypeKey] | None = None
) -> dict[TypeKey, ResourceType]:
    with store.read() as tx:
        return tx.state.types(keys)


def load_staged(store: Store) -> dict[str, Change]:
    with store.read() as tx:
        return tx.staged.load()


def replace_staged(store: Store, changes: Sequence[Change], types: Iterable[ResourceType]) -> None:
    with store.write() as tx:
        tx.staged.replace(changes)
        tx.state.save_types(list(types))


def discard_staged(store: Store, names: Collection[str] | None = None) -> list[str]:
    with store.write() as tx:
        return tx.staged.discard(names)


def get_apply(store: Store, apply_id: int) -> ApplyRecord:
    with store.read() as tx:
        return tx.applies.get(apply_id)


def load_tasks(store: Store, apply_id: int) -> list[JournalTask]:
    with store.read() as tx:
        return tx.applies.tasks(apply_id)


def begin_apply(
    store: Store,
    principal: str,
    message: str,
    plan: Plan,
    started_at: str,
    *,
    started: Collection[str] = (),
    grant: LockGrant | None = None,
) -> ApplyRecord:
    """Begin an apply as the runner does: ``started`` journaled, the lock naming it."""
    with store.write() as tx:
        record = tx.applies.begin(principal, message, started_at, plan)
        tx.applies.start(record.id, {name: 1 for name in started})
        if grant is not None:
            tx.lock.refresh(grant, apply_id=record.id)
        return record


def record_commits(
    store: Store,
    apply_id: int,
    principal: str,
    message: str,
    entries: Sequence[CommitEntry],
    *,
    lock: LockGrant | None = None,
) -> list[Commit]:
    """Commit ``entries`` as a runner turn does: commits, state, unstaging, tasks done, lease."""
    with store.write() as tx:
        built = commit_changes(tx, apply_id, principal, message, entries)
        names = {entry.change.resource for entry in entries}
        tasks = {task.resource: task.status for task in tx.applies.tasks(apply_id)}
        pending = [name for name in names if tasks.get(name) is TaskStatus.PENDING]
        tx.applies.start(apply_id, {name: 1 for name in pending})
        tx.applies.mark(apply_id, names & tasks.keys(), TaskStatus.DONE)
        if lock is not None:
            tx.lock.refresh(lock, apply_id=apply_id)
        return built


def finish_apply(
    store: Store, apply_id: int, status: ApplyStatus, ended_at: str = ""
) -> ApplyRecord:
    with store.write() as tx:
        return tx.applies.finish(apply_id, status, ended_at=ended_at)


def set_apply_status(store: Store, apply_id: int, status: ApplyStatus) -> ApplyRecord:
    with store.write() as tx:
        return tx.applies.set_status(apply_id, status)


def unfinished_applies(store: Store) -> list[ApplyRecord]:
    with store.read() as tx:
        return tx.applies.unfinished()


def list_applies(store: Store, *, before: int | None = None, limit: int = 50) -> list[ApplyRecord]:
    with store.read() as tx:
        return tx.applies.page(before=before, limit=limit)


def get_commit(store: Store, rev: int) -> Commit:
    with store.read() as tx:
        return tx.log.get(rev)


def get_commits(store: Store, revs: Collection[int]) -> list[Commit]:
    with store.read() as tx:
        return tx.log.get_many(revs)


def apply_commits(store: Store, apply_id: int) -> list[Commit]:
    with store.read() as tx:
        return tx.log.of_apply(apply_id)


def log(store: Store, query: LogQuery) -> list[Commit]:
    with store.read() as tx:
        return tx.log.search(query)


def kinds_before(store: Store, revs: Collection[int]) -> dict[int, TypeKey]:
    with store.read() as tx:
        return tx.log.kinds_before(revs)


def state_at(store: Store, rev: int) -> dict[str, ResourceState]:
    with store.read() as tx:
        return tx.snapshots.state_at(rev)


def add_checkpoint(store: Store, checkpoint: Checkpoint) -> None:
    with store.write() as tx:
        tx.checkpoints.add(checkpoint)


def get_checkpoint(store: Store, name: str) -> Checkpoint:
    with store.read() as tx:
        return tx.checkpoints.get(name)


def list_checkpoints(store: Store) -> list[Checkpoint]:
    with store.read() as tx:
        return tx.checkpoints.list()


def acquire_lock(store: Store, holder: LockHolder, lease_seconds: float) -> LockGrant:
    with store.write() as tx:
        return tx.lock.acquire(holder, lease_seconds)


def refresh_lock(store: Store, grant: LockGrant, *, apply_id: int | None = None) -> None:
    with store.write() as tx:
        tx.lock.refresh(grant, apply_id=apply_id)


def release_lock(store: Store, grant: LockGrant) -> None:
    with store.write() as tx:
        tx.lock.release(grant)


def lock_holder(store: Store) -> LockHolder | None:
    with store.read() as tx:
        return tx.lock.holder()


def force_unlock(store: Store) -> LockHolder | None:
    with store.write() as tx:
        return tx.lock.force_free()


def blame(store: Store, resource: str) -> Any:
    with store.read() as tx:
        state = tx.state.load([resource])[resource]
        return tx.log.blame(resource, state.inputs)


def lock_is_stale(store: Store) -> bool:
    """Whether the lock is held by a holder that is gone (dead pid here, or lease expired)."""
    with store.read() as tx:
        row = locks.lock_row(sql_connection(tx))
    held = row["token"] is not None
    return held and locks.is_stale(row, float(row["now"]), socket.gethostname())


def verify(store: Store) -> VerifyReport:
    with store.read() as tx:
        return verify_log(tx)


def commit_indexes(store: Store) -> list[str]:
    """The names of the ``commits`` table's indexes, as the database lists them."""
    with store.read() as tx:
        found = inspect(sql_connection(tx)).get_indexes("commits")
    return sorted(str(index["name"]) for index in found)
