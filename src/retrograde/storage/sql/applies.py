"""Apply records and their journal in SQL: ``applies`` and ``apply_tasks``, in one place.

The journal is ``apply_tasks``: one row per planned action with its status,
the number of attempts and the last error. Status changes are set-based
(``resource IN (...)`` in chunks, a few statements per call whatever its
size) and guarded in SQL by the transition table, so a change the table does
not allow touches no row and is refused.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnClause,
    Connection,
    Update,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    update,
)

from retrograde.config import principal_source
from retrograde.errors import NotFoundError, StateError
from retrograde.model.apply import ApplyKind, ApplyRecord, ApplyStatus, can_transition
from retrograde.model.change import ActionName, Change
from retrograde.model.journal import OPEN_TASKS, JournalTask, TaskStatus, sources_of
from retrograde.model.jsonvalue import JSONObject
from retrograde.model.plan import Plan
from retrograde.storage.sql import chain, rows
from retrograde.storage.sql.apply_counts import journal_outcome, with_journal_counts
from retrograde.storage.sql.export import apply_records
from retrograde.storage.sql.importing import load_applies
from retrograde.storage.sql.schema import applies, apply_tasks
from retrograde.storage.sql.staged import SqlStaged
from retrograde.storage.sql.statements import chunks, execute_many, insert_many, keyed_update

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected

UNFINISHED = (ApplyStatus.RUNNING.value, ApplyStatus.INTERRUPTED.value)

_FAILED = keyed_update(apply_tasks, ("apply_id", "resource"), ("status", "error"))
_RETYPED = keyed_update(apply_tasks, ("apply_id", "resource"), ("type", "version"))


class SqlApplies:
    """:class:`retrograde.storage.apply_repositories.AppliesRepository` in SQL."""

    def __init__(self, connected: Connected) -> None:
        self._c = connected

    def begin(self, principal: str, message: str, started_at: str, plan: Plan) -> ApplyRecord:
        conn = self._c.writing()
        names = [action.resource for action in plan.actions]
        kinds = SqlStaged(self._c).kinds(names)
        missing = sorted(set(names) - kinds.keys())
        if missing:
            raise StateError(f"cannot begin an apply: not staged: {', '.join(missing)}")
        record = _insert(conn, principal, message, ApplyStatus.RUNNING, started_at)
        tasks = [
            _task_row(record.id, position, action.resource, action.action, kinds[action.resource])
            for position, action in enumerate(plan.actions)
        ]
        insert_many(conn, apply_tasks, tasks)
        chain.note_types(conn, set(kinds.values()))
        chain.note_applies(conn, [record.id])
        return record

    def record(
        self,
        principal: str,
        message: str,
        timestamp: str,
        changes: Sequence[Change],
        kind: ApplyKind = ApplyKind.MIGRATE,
    ) -> ApplyRecord:
        conn = self._c.writing()
        record = _insert(conn, principal, message, ApplyStatus.RUNNING, timestamp, kind=kind)
        tasks = [
            _task_row(
                record.id, position, c.resource, c.action, c.type_state.type_key, TaskStatus.DONE
            )
            for position, c in enumerate(changes)
        ]
        if tasks:
            conn.execute(apply_tasks.insert(), tasks)
        chain.note_types(conn, {c.type_state.type_key for c in changes})
        chain.note_applies(conn, [record.id])
        return self.finish(record.id, ApplyStatus.SUCCEEDED, ended_at=timestamp)

    def get(self, apply_id: int) -> ApplyRecord:
        return with_journal_counts(self._c.conn, [_record(self._c.conn, apply_id)])[0]

    def page(self, *, before: int | None = None, limit: int = 50) -> list[ApplyRecord]:
        query = select(applies).order_by(applies.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(applies.c.id < before)
        found = [rows.apply_from_row(row) for row in self._c.conn.execute(query).mappings()]
        return with_journal_counts(self._c.conn, found)

    def exported(self, ids: Collection[int]) -> list[JSONObject]:
        return apply_records(self._c.conn, ids)

    def load(self, records: Sequence[JSONObject]) -> None:
        conn = self._c.writing()
        load_applies(conn, records)
        chain.note_applies(conn, [int(str(record["id"])) for record in records])

    def unfinished(self) -> list[ApplyRecord]:
        query = select(applies).where(applies.c.status.in_(UNFINISHED)).order_by(applies.c.id)
        return [rows.apply_from_row(row) for row in self._c.conn.execute(query).mappings()]

    def set_status(self, apply_id: int, status: ApplyStatus) -> ApplyRecord:
        conn = self._c.writing()
        record = _record(conn, apply_id, for_update=True)
        if record.status is status:
            return record
        _check_transition(record, status)
        conn.execute(applies.update().where(applies.c.id == apply_id).values(status=status.value))
        chain.note_applies(conn, [apply_id])
        return dataclasses.replace(record, status=status)

    def finish(self, apply_id: int, status: ApplyStatus, *, ended_at: str) -> ApplyRecord:
        conn = self._c.writing()
        record = _record(conn, apply_id, for_update=True)
        _check_transition(record, status)
        self.mark(apply_id, self._open_tasks(apply_id), TaskStatus.SKIPPED)
        counts, errors = journal_outcome(conn, apply_id)
        finished = dataclasses.replace(
            record,
            status=status,
            ended_at=ended_at,
            succeeded=counts.get(TaskStatus.DONE.value, 0),
            failed=counts.get(TaskStatus.FAILED.value, 0),
            skipped=counts.get(TaskStatus.SKIPPED.value, 0),
            failures=errors,
        )
        conn.execute(_outcome(finished))
        chain.note_applies(conn, [apply_id])
        return finished

    def tasks(self, apply_id: int) -> list[JournalTask]:
        query = select(apply_tasks).where(apply_tasks.c.apply_id == apply_id)
        found = self._c.conn.execute(query.order_by(apply_tasks.c.position)).mappings()
        return [rows.task_from_row(row) for row in found]

    def mark(self, apply_id: int, names: Collection[str], status: TaskStatus) -> None:
        self._move(apply_id, names, status, {"status": status.value})

    def start(self, apply_id: int, attempts: Mapping[str, int]) -> None:
        by_attempt: dict[int, list[str]] = {}
        for name, attempt in attempts.items():
            by_attempt.setdefault(attempt, []).append(name)
        for attempt, names in by_attempt.items():
            values = {"status": TaskStatus.STARTED.value, "attempts": attempt}
            self._move(apply_id, names, TaskStatus.STARTED, values)

    def fail(self, apply_id: int, failures: Mapping[str, JSONObject]) -> None:
        if not failures:
            return
        self._move(apply_id, failures, TaskStatus.FAILED, {"status": TaskStatus.FAILED.value})
        params = [
            {
                "k_apply_id": apply_id,
                "k_resource": name,
                "v_status": TaskStatus.FAILED.value,
                "v_error": rows.dump(dict(failure)),
            }
            for name, failure in failures.items()
        ]
        self._c.writing().execute(_FAILED, params)

    def drop_tasks(self, apply_id: int, names: Collection[str]) -> None:
        conn = self._c.writing()
        for chunk in chunks(names):
            where = (apply_tasks.c.apply_id == apply_id, apply_tasks.c.resource.in_(chunk))
            conn.execute(delete(apply_tasks).where(*where))

    def add_tasks(self, apply_id: int, changes: Sequence[Change]) -> None:
        if not changes:
            return
        conn = self._c.writing()
        query = select(func.max(apply_tasks.c.position)).where(apply_tasks.c.apply_id == apply_id)
        last = conn.execute(query).scalar()
        start = 0 if last is None else int(last) + 1
        tasks = [
            _task_row(apply_id, position, c.resource, c.action, c.type_state.type_key)
            for position, c in enumerate(changes, start)
        ]
        conn.execute(apply_tasks.insert(), tasks)
        chain.note_types(conn, {c.type_state.type_key for c in changes})

    def retype_tasks(self, apply_id: int, changes: Sequence[Change]) -> None:
        if not changes:
            return
        params = [
            {
                "k_apply_id": apply_id,
                "k_resource": c.resource,
                "v_type": c.type_state.type,
                "v_version": c.type_state.version,
            }
            for c in changes
        ]
        conn = self._c.writing()
        conn.execute(_RETYPED, params)
        chain.note_types(conn, {c.type_state.type_key for c in changes})

    def _open_tasks(self, apply_id: int) -> list[str]:
        open_statuses = [status.value for status in OPEN_TASKS]
        query = select(apply_tasks.c.resource).where(
            apply_tasks.c.apply_id == apply_id, apply_tasks.c.status.in_(open_statuses)
        )
        return [str(name) for name in self._c.conn.execute(query).scalars()]

    def _move(
        self, apply_id: int, names: Collection[str], status: TaskStatus, values: dict[str, Any]
    ) -> None:
        """Set ``values`` on the tasks ``names`` that may move to ``status``; refuse the rest."""
        conn = self._c.writing()
        allowed = tuple(source.value for source in sources_of(status))
        statement = _moving(tuple(values), allowed)
        given = {f"v_{column}": value for column, value in values.items()}
        unique = set(names)
        params = [{"k_apply_id": apply_id, "k_resource": name, **given} for name in unique]
        moved = execute_many(conn, statement, params)
        if moved != len(unique):
            raise StateError(
                f"apply {apply_id}: {len(set(names)) - moved} task(s) cannot become {status.value}"
            )


def _check_transition(record: ApplyRecord, status: ApplyStatus) -> None:
    if not can_transition(record.status, status):
        raise StateError(
            f"apply {record.id} cannot go from {record.status.value} to {status.value}"
        )


def _insert(
    conn: Connection,
    principal: str,
    message: str,
    status: ApplyStatus,
    started_at: str,
    ended_at: str | None = None,
    *,
    kind: ApplyKind = ApplyKind.APPLY,
) -> ApplyRecord:
    values = {
        "principal": principal,
        "message": message,
        "status": status.value,
        "started_at": started_at,
        "ended_at": ended_at,
        "succeeded": 0,
        "failed": 0,
        "skipped": 0,
        "failures": "{}",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "kind": kind.value,
        "principal_source": principal_source(principal),
    }
    inserted = applies.insert().values(values).returning(applies.c.id)
    apply_id = int(conn.execute(inserted).scalar_one())
    return ApplyRecord(apply_id, principal, message, status, started_at, ended_at, kind=kind)


@functools.cache
def _moving(columns: tuple[str, ...], allowed: tuple[str, ...]) -> Update:
    """The UPDATE of ``_move`` setting ``columns`` on one task whose status is one of
    ``allowed``, run once per task in one ``executemany`` (built once: a commit turn runs it
    thrice). The statuses are the journal's own words, written into the statement."""
    statuses: list[ColumnClause[Any]] = [literal_column(f"'{status}'") for status in allowed]
    return (
        update(apply_tasks)
        .where(
            apply_tasks.c.apply_id == bindparam("k_apply_id"),
            apply_tasks.c.resource == bindparam("k_resource"),
            apply_tasks.c.status.in_(statuses),
        )
        .values({column: bindparam(f"v_{column}") for column in columns})
    )


def _task_row(
    apply_id: int,
    position: int,
    resource: str,
    action: ActionName,
    kind: tuple[str, int],
    status: TaskStatus = TaskStatus.PENDING,
) -> dict[str, Any]:
    return {
        "apply_id": apply_id,
        "resource": resource,
        "action": action.value,
        "type": kind[0],
        "version": kind[1],
        "position": position,
        "status": status.value,
        "attempts": 0,
    }


def _record(conn: Connection, apply_id: int, *, for_update: bool = False) -> ApplyRecord:
    query = select(applies).where(applies.c.id == apply_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFoundError("apply", apply_id)
    return rows.apply_from_row(row)


def _outcome(record: ApplyRecord) -> Any:
    """The UPDATE that stores the outcome fields of ``record``."""
    return (
        applies.update()
        .where(applies.c.id == record.id)
        .values(
            status=record.status.value,
            ended_at=record.ended_at,
            succeeded=record.succeeded,
            failed=record.failed,
            skipped=record.skipped,
            failures=rows.dump(dict(record.failures)),
        )
    )
