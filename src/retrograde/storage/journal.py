"""The apply journal beyond ``begin_apply``: turns of a running apply, resuming, task edits.

The journal is ``apply_tasks``: one row per planned action with its status
(``pending -> started -> done | failed | skipped``), the number of attempts
and the last error. The runner journals intent (``started``) for the actions
it is about to dispatch in the same transaction that commits the results that
released them, so one loop turn is one transaction, and a crash at any instant
leaves at most the dispatched-but-uncommitted actions ``started``.

Functions take an open :class:`~sqlalchemy.Connection` inside the caller's
transaction.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from retrograde.errors import NotFoundError, StateError
from retrograde.model.apply import ApplyRecord, ApplyStatus, can_transition
from retrograde.model.change import ActionName, Change
from retrograde.storage import locks, rows
from retrograde.storage.base import (
    JournalEdit,
    JournalTask,
    JournalUpdate,
    MigrationBatch,
    TaskStatus,
)
from retrograde.storage.schema import applies, apply_tasks
from retrograde.storage.statements import chunks, keyed_update

UNFINISHED = (ApplyStatus.RUNNING.value, ApplyStatus.INTERRUPTED.value)

_FAILED = keyed_update(apply_tasks, ("apply_id", "resource"), ("status", "error"))
_VERSION = keyed_update(apply_tasks, ("apply_id", "resource"), ("type", "version"))


def journal_turn(
    conn: Connection, apply_id: int, done: Collection[str], journal: JournalUpdate
) -> None:
    """Journal one runner turn: done, started (with their attempt), failed, skipped; the lease.

    Status changes are set-based (``resource IN (...)`` in chunks), a few
    statements per turn whatever its size; attempts are written when an
    action is dispatched, so finishing one leaves them as they are.
    """
    set_task_status(conn, apply_id, done, TaskStatus.DONE)
    for attempt, names in _by_attempt(journal.started).items():
        set_task_status(conn, apply_id, names, TaskStatus.STARTED, attempts=attempt)
    if journal.failed:
        conn.execute(_FAILED, [_failed(apply_id, n, f) for n, f in journal.failed.items()])
    set_task_status(conn, apply_id, journal.skipped, TaskStatus.SKIPPED)
    if journal.lock is not None:
        locks.refresh(conn, journal.lock, apply_id)


def set_task_status(
    conn: Connection,
    apply_id: int,
    names: Collection[str],
    status: TaskStatus,
    *,
    attempts: int | None = None,
) -> None:
    """Set the status (and attempt count) of the tasks ``names`` of the apply."""
    values: dict[str, Any] = {"status": status.value}
    if attempts is not None:
        values["attempts"] = attempts
    for chunk in chunks(names):
        where = (apply_tasks.c.apply_id == apply_id, apply_tasks.c.resource.in_(chunk))
        conn.execute(update(apply_tasks).where(*where).values(values))


def _by_attempt(started: Mapping[str, int]) -> dict[int, list[str]]:
    groups: dict[int, list[str]] = {}
    for name, attempt in started.items():
        groups.setdefault(attempt, []).append(name)
    return groups


def _failed(apply_id: int, name: str, failure: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "k_apply_id": apply_id,
        "k_resource": name,
        "v_status": TaskStatus.FAILED.value,
        "v_error": rows.dump(dict(failure)),
    }


def unfinished_applies(conn: Connection) -> list[ApplyRecord]:
    """Running or interrupted applies, oldest first (answered by ``ix_applies_status``)."""
    query = select(applies).where(applies.c.status.in_(UNFINISHED)).order_by(applies.c.id)
    return [rows.apply_from_row(row) for row in conn.execute(query).mappings()]


def set_status(conn: Connection, apply_id: int, status: ApplyStatus) -> ApplyRecord:
    """Move the apply to ``status`` if the transition table allows it, else StateError."""
    record = apply_record(conn, apply_id)
    if record.status is status:
        return record
    if not can_transition(record.status, status):
        raise StateError(f"apply {apply_id} cannot go from {record.status.value} to {status.value}")
    update = applies.update().where(applies.c.id == apply_id).values(status=status.value)
    conn.execute(update)
    return dataclasses.replace(record, status=status)


def apply_record(conn: Connection, apply_id: int) -> ApplyRecord:
    query = select(applies).where(applies.c.id == apply_id).with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFoundError("apply", apply_id)
    return rows.apply_from_row(row)


def resume(conn: Connection, apply_id: int, journal: JournalUpdate) -> ApplyRecord:
    """Interrupted -> running, with the first wave journaled ``started`` and the lock claimed."""
    record = set_status(conn, apply_id, ApplyStatus.RUNNING)
    journal_turn(conn, apply_id, (), journal)
    return record


def edit_tasks(conn: Connection, edit: JournalEdit, changes: Mapping[str, Change]) -> None:
    """Apply a resumption's task edits: drop, then add (after the last position), then retype."""
    key = {"k_apply_id": edit.apply_id}
    for chunk in chunks(edit.dropped):
        where = (apply_tasks.c.apply_id == edit.apply_id, apply_tasks.c.resource.in_(chunk))
        conn.execute(delete(apply_tasks).where(*where))
    if edit.added:
        start = _next_position(conn, edit.apply_id)
        added = [changes[name] for name in edit.added]
        conn.execute(apply_tasks.insert(), _new_tasks(edit.apply_id, added, start))
    if edit.changed:
        retyped = [_retype(key, changes[name]) for name in edit.changed]
        conn.execute(_VERSION, retyped)


def _next_position(conn: Connection, apply_id: int) -> int:
    query = select(func.max(apply_tasks.c.position)).where(apply_tasks.c.apply_id == apply_id)
    last = conn.execute(query).scalar()
    return 0 if last is None else int(last) + 1


def _new_tasks(apply_id: int, changes: Sequence[Change], start: int) -> list[dict[str, Any]]:
    return [
        {
            "apply_id": apply_id,
            "resource": change.resource,
            "action": change.action.value,
            "type": change.type_state.type,
            "version": change.type_state.version,
            "position": position,
            "status": TaskStatus.PENDING.value,
            "attempts": 0,
        }
        for position, change in enumerate(changes, start)
    ]


def _retype(key: Mapping[str, Any], change: Change) -> dict[str, Any]:
    side = change.type_state
    return {**key, "k_resource": change.resource, "v_type": side.type, "v_version": side.version}


def insert_migration_apply(conn: Connection, batch: MigrationBatch) -> int:
    """An apply of its own for ``migrate`` commits: already succeeded, every task ``done``."""
    count = len(batch.changes)
    values = {
        "principal": batch.principal,
        "message": batch.message,
        "status": ApplyStatus.SUCCEEDED.value,
        "started_at": batch.timestamp,
        "ended_at": batch.timestamp,
        "succeeded": count,
        "failed": 0,
        "skipped": 0,
        "failures": "{}",
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    apply_id = int(
        conn.execute(applies.insert().values(values).returning(applies.c.id)).scalar_one()
    )
    tasks = _new_tasks(apply_id, batch.changes, 0)
    for task in tasks:
        task.update(status=TaskStatus.DONE.value, action=ActionName.MIGRATE.value)
    if tasks:
        conn.execute(apply_tasks.insert(), tasks)
    return apply_id


def abandoned_tasks(conn: Connection, apply_id: int) -> list[str]:
    """Tasks of the apply that never finished (pending or started)."""
    open_statuses = (TaskStatus.PENDING.value, TaskStatus.STARTED.value)
    query = select(apply_tasks.c.resource).where(
        apply_tasks.c.apply_id == apply_id, apply_tasks.c.status.in_(open_statuses)
    )
    return [str(name) for name in conn.execute(query).scalars()]


def abandon(conn: Connection, apply_id: int, ended_at: str) -> ApplyRecord:
    """End an interrupted apply as failed: its unfinished tasks become ``skipped``."""
    record = apply_record(conn, apply_id)
    if not can_transition(record.status, ApplyStatus.FAILED):
        raise StateError(f"apply {apply_id} cannot go from {record.status.value} to failed")
    set_task_status(conn, apply_id, abandoned_tasks(conn, apply_id), TaskStatus.SKIPPED)
    counts = _status_counts(conn, apply_id)
    failures = {
        task.resource: dict(task.error) for task in load_tasks(conn, apply_id) if task.error
    }
    ended = dataclasses.replace(
        record,
        status=ApplyStatus.FAILED,
        ended_at=ended_at,
        succeeded=counts.get(TaskStatus.DONE.value, 0),
        failed=counts.get(TaskStatus.FAILED.value, 0),
        skipped=counts.get(TaskStatus.SKIPPED.value, 0),
        failures=failures,
    )
    conn.execute(
        applies.update()
        .where(applies.c.id == apply_id)
        .values(
            status=ended.status.value,
            ended_at=ended_at,
            succeeded=ended.succeeded,
            failed=ended.failed,
            skipped=ended.skipped,
            failures=rows.dump(failures),
        )
    )
    return ended


def _status_counts(conn: Connection, apply_id: int) -> dict[str, int]:
    query = (
        select(apply_tasks.c.status, func.count())
        .where(apply_tasks.c.apply_id == apply_id)
        .group_by(apply_tasks.c.status)
    )
    return {str(status): int(count) for status, count in conn.execute(query)}


def load_tasks(conn: Connection, apply_id: int) -> list[JournalTask]:
    query = select(apply_tasks).where(apply_tasks.c.apply_id == apply_id)
    found = conn.execute(query.order_by(apply_tasks.c.position)).mappings()
    return [rows.task_from_row(row) for row in found]
