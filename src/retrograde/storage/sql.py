"""The store on SQLAlchemy Core, for SQLite and PostgreSQL alike.

Each public method is one transaction (a write transaction takes SQLite's
write lock up front, see :mod:`retrograde.storage.engine`). Batches are one
``executemany`` per statement, never a statement per row, so staging 100,000
resources or committing a few hundred actions at once costs a handful of round
trips. Driver errors leave as :class:`StoreError`.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import Column, Connection, Engine, RowMapping, Table, delete, select, text, tuple_
from sqlalchemy.sql.dml import Insert, Update

from retrograde.errors import NotFoundError, StateError
from retrograde.model.apply import ApplyRecord, ApplyStatus, can_transition
from retrograde.model.change import Change
from retrograde.model.checkpoint import Checkpoint
from retrograde.model.commit import GENESIS_HASH, Commit
from retrograde.model.commit_builder import build_commit
from retrograde.model.jsonvalue import JSON
from retrograde.model.plan import Plan
from retrograde.model.query import LogQuery
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType
from retrograde.storage import checkpoints, history, locks, revisions, rows, snapshots
from retrograde.storage.base import (
    CommitEntry,
    JournalTask,
    JournalUpdate,
    LockGrant,
    TaskStatus,
    TypeKey,
)
from retrograde.storage.driver_errors import mask_password, translated
from retrograde.storage.durable import DurableMethods
from retrograde.storage.engine import writer
from retrograde.storage.history_methods import HistoryMethods
from retrograde.storage.journal import journal_turn
from retrograde.storage.schema import applies, apply_tasks, commits, resources, staged
from retrograde.storage.schema import types as types_table
from retrograde.storage.statements import chunks, keyed_delete, keyed_update, upsert


class SqlStore(DurableMethods, HistoryMethods):
    """:class:`retrograde.storage.base.Store` on one SQLAlchemy engine; see the module docstring.

    Open it with :func:`retrograde.storage.connect.open_store`, which also
    brings the schema up to date. Used from one thread at a time.
    """

    def __init__(self, engine: Engine, *, url: str) -> None:
        self.url = url
        self._engine = engine
        self._writer = writer(engine)

    @property
    def engine(self) -> Engine:
        """The underlying engine (for diagnostics and tests; domain code uses the methods)."""
        return self._engine

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    # committed state and types

    def load_state(self, names: Collection[str] | None = None) -> dict[str, ResourceState]:
        with self._read() as conn:
            found = _select_by_key(conn, resources, resources.c.name, names)
        return {row["name"]: rows.state_from_row(row) for row in found}

    def load_types(self, keys: Collection[TypeKey] | None = None) -> dict[TypeKey, ResourceType]:
        with self._read() as conn:
            found = _select_types(conn, keys)
        return {(row["name"], int(row["version"])): rows.type_from_row(row) for row in found}

    # staged log

    def replace_staged(self, changes: Sequence[Change], types: Iterable[ResourceType]) -> None:
        with self._write() as conn:
            self._replace_staged_in(conn, changes, types)

    def _replace_staged_in(
        self, conn: Connection, changes: Sequence[Change], types: Iterable[ResourceType]
    ) -> None:
        type_rows = {(t.name, t.version): rows.type_row(t) for t in types}
        conn.execute(delete(staged))
        if changes:
            conn.execute(staged.insert(), [rows.staged_row(c) for c in changes])
        if type_rows:
            conn.execute(self._upsert(types_table, ("name", "version")), [*type_rows.values()])

    def load_staged(self) -> dict[str, Change]:
        with self._read() as conn:
            found = conn.execute(select(staged)).mappings().all()
        return {row["resource"]: rows.change_from_row(row) for row in found}

    def discard_staged(self, names: Collection[str] | None = None) -> list[str]:
        with self._write() as conn:
            found = _select_by_key(conn, staged, staged.c.resource, names, [staged.c.resource])
            present = [row["resource"] for row in found]
            if present:
                params = [{"k_resource": name} for name in present]
                conn.execute(keyed_delete(staged, "resource"), params)
        return sorted(present)

    # applies and the journal

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
        names = [action.resource for action in plan.actions]
        with self._write() as conn:
            kinds = _staged_kinds(conn, names)
            missing = sorted(set(names) - kinds.keys())
            if missing:
                raise StateError(f"cannot begin an apply: not staged: {', '.join(missing)}")
            apply_id = _insert_apply(conn, principal, message, started_at)
            if names:
                conn.execute(apply_tasks.insert(), _task_rows(apply_id, plan, kinds, started))
            if grant is not None:
                locks.refresh(conn, grant, apply_id)
        return ApplyRecord(apply_id, principal, message, ApplyStatus.RUNNING, started_at)

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
        with self._write() as conn:
            record = _apply_record(conn, apply_id, for_update=True)
            if not can_transition(record.status, status):
                raise StateError(
                    f"apply {apply_id} cannot go from {record.status.value} to {status.value}"
                )
            finished = dataclasses.replace(
                record,
                status=status,
                ended_at=ended_at,
                succeeded=succeeded,
                failed=failed,
                skipped=skipped,
                failures=dict(failures),
            )
            conn.execute(_apply_update(finished))
        return finished

    def get_apply(self, apply_id: int) -> ApplyRecord:
        with self._read() as conn:
            return _apply_record(conn, apply_id)

    def mark_tasks(self, apply_id: int, resources: Collection[str], status: str) -> None:
        checked = TaskStatus(status)
        if not resources:
            return
        with self._write() as conn:
            _mark_tasks(conn, apply_id, resources, checked)

    def load_tasks(self, apply_id: int) -> list[JournalTask]:
        query = select(apply_tasks).where(apply_tasks.c.apply_id == apply_id)
        with self._read() as conn:
            found = conn.execute(query.order_by(apply_tasks.c.position)).mappings().all()
        return [rows.task_from_row(row) for row in found]

    # commits

    def record_commits(
        self,
        apply_id: int,
        principal: str,
        message: str,
        entries: Sequence[CommitEntry],
        journal: JournalUpdate | None = None,
    ) -> list[Commit]:
        """One transaction: commits, committed state, unstaging and journal, all or nothing."""
        if not entries and not journal:
            return []
        with self._write() as conn:
            built = self._commit_entries(conn, apply_id, principal, message, entries)
            names = list(dict.fromkeys(entry.change.resource for entry in entries))
            if journal is None:
                _mark_tasks(conn, apply_id, names, TaskStatus.DONE)
            else:
                journal_turn(conn, apply_id, names, journal)
        return built

    def _commit_entries(
        self,
        conn: Connection,
        apply_id: int,
        principal: str,
        message: str,
        entries: Sequence[CommitEntry],
    ) -> list[Commit]:
        """Commits for ``entries`` with committed state and unstaging, in ``conn``'s transaction."""
        if not entries:
            return []
        self._lock_log(conn)
        rev, previous_hash = _head(conn)
        entries = history.in_time_order(conn, rev, entries)
        built = _build_commits(apply_id, principal, message, entries, rev, previous_hash)
        conn.execute(commits.insert(), [rows.commit_row(c) for c in built])
        history.index_commits(conn, built)
        self._write_state(conn, [entry.change for entry in entries])
        names = list(dict.fromkeys(entry.change.resource for entry in entries))
        conn.execute(keyed_delete(staged, "resource"), [{"k_resource": n} for n in names])
        snapshots.snapshot_if_due(conn, rev, built[-1].rev)
        return built

    def head(self) -> tuple[int, str]:
        with self._read() as conn:
            return _head(conn)

    def get_commit(self, rev: int) -> Commit:
        with self._read() as conn:
            row = conn.execute(select(commits).where(commits.c.rev == rev)).mappings().first()
        if row is None:
            raise NotFoundError("revision", rev)
        return rows.commit_from_row(row)

    def log(self, query: LogQuery) -> list[Commit]:
        with self._read() as conn:
            return history.log_page(conn, query, _head(conn)[0])

    # reverting, time travel and checkpoints (queries in revisions, snapshots, checkpoints)

    def get_commits(self, revs: Collection[int]) -> list[Commit]:
        with self._read() as conn:
            return revisions.commits_by_rev(conn, revs)

    def apply_commits(self, apply_id: int) -> list[Commit]:
        with self._read() as conn:
            return revisions.commits_of_apply(conn, apply_id)

    def kinds_before(self, revs: Collection[int]) -> dict[int, TypeKey]:
        with self._read() as conn:
            return revisions.kinds_before(conn, revs)

    def state_at(self, rev: int) -> dict[str, ResourceState]:
        with self._read() as conn:
            head, _ = _head(conn)
            if not 0 <= rev <= head:
                raise NotFoundError("revision", rev)
            return snapshots.state_at(conn, rev)

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self._write() as conn:
            checkpoints.insert_checkpoint(conn, checkpoint, _head(conn)[0])

    def get_checkpoint(self, name: str) -> Checkpoint:
        with self._read() as conn:
            return checkpoints.get_checkpoint(conn, name)

    def list_checkpoints(self) -> list[Checkpoint]:
        with self._read() as conn:
            return checkpoints.list_checkpoints(conn)

    # internals

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with translated(self.url, "read"), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with translated(self.url, "write to"), self._writer.begin() as conn:
            yield conn

    def _upsert(self, table: Table, keys: Sequence[str]) -> Insert:
        return upsert(self._engine.dialect.name, table, keys)

    def _lock_log(self, conn: Connection) -> None:
        """Serialise committers so revisions stay gapless (SQLite: BEGIN IMMEDIATE did it)."""
        if conn.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE commits IN SHARE ROW EXCLUSIVE MODE"))

    def _write_state(self, conn: Connection, changes: Sequence[Change]) -> None:
        """Committed state after ``changes`` in order: the last change of a resource wins."""
        after = {change.resource: change.after for change in changes}
        gone = [{"k_name": name} for name, state in after.items() if state is None]
        kept = [rows.state_row(name, state) for name, state in after.items() if state is not None]
        if gone:
            conn.execute(keyed_delete(resources, "name"), gone)
        if kept:
            conn.execute(self._upsert(resources, ("name",)), kept)

    def __repr__(self) -> str:
        return f"SqlStore({mask_password(self.url)!r})"


def _select_by_key(
    conn: Connection,
    table: Table,
    key: Column[Any],
    names: Collection[str] | None,
    columns: Sequence[Column[Any]] | None = None,
) -> list[RowMapping]:
    """Rows of ``table`` whose ``key`` is in ``names`` (all rows when None), IN list chunked."""
    query = select(*columns) if columns else select(table)
    if names is None:
        return list(conn.execute(query).mappings())
    found: list[RowMapping] = []
    for chunk in chunks(set(names)):
        found.extend(conn.execute(query.where(key.in_(chunk))).mappings())
    return found


def _select_types(conn: Connection, keys: Collection[TypeKey] | None) -> list[RowMapping]:
    if keys is None:
        return list(conn.execute(select(types_table)).mappings())
    found: list[RowMapping] = []
    for chunk in chunks(set(keys)):
        where = tuple_(types_table.c.name, types_table.c.version).in_(chunk)
        found.extend(conn.execute(select(types_table).where(where)).mappings())
    return found


def _staged_kinds(conn: Connection, names: Collection[str]) -> dict[str, tuple[str, int]]:
    """``resource -> (type, version)`` of the staged changes of ``names``."""
    columns = [staged.c.resource, staged.c.type, staged.c.version]
    found = _select_by_key(conn, staged, staged.c.resource, names, columns) if names else []
    return {row["resource"]: (row["type"], int(row["version"])) for row in found}


def _insert_apply(conn: Connection, principal: str, message: str, started_at: str) -> int:
    values = {
        "principal": principal,
        "message": message,
        "status": ApplyStatus.RUNNING.value,
        "started_at": started_at,
        "ended_at": None,
        "succeeded": 0,
        "failed": 0,
        "skipped": 0,
        "failures": "{}",
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    inserted = applies.insert().values(values).returning(applies.c.id)
    return int(conn.execute(inserted).scalar_one())


def _task_rows(
    apply_id: int, plan: Plan, kinds: Mapping[str, tuple[str, int]], started: Collection[str]
) -> list[dict[str, Any]]:
    """Journal rows for ``plan``: pending, except the ``started`` first wave (attempt 1)."""
    first = set(started)
    return [
        {
            "apply_id": apply_id,
            "resource": action.resource,
            "action": action.action.value,
            "type": kinds[action.resource][0],
            "version": kinds[action.resource][1],
            "position": position,
            "status": (
                TaskStatus.STARTED if action.resource in first else TaskStatus.PENDING
            ).value,
            "attempts": 1 if action.resource in first else 0,
        }
        for position, action in enumerate(plan.actions)
    ]


def _apply_update(record: ApplyRecord) -> Update:
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


def _apply_record(conn: Connection, apply_id: int, *, for_update: bool = False) -> ApplyRecord:
    query = select(applies).where(applies.c.id == apply_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFoundError("apply", apply_id)
    return rows.apply_from_row(row)


def _mark_tasks(
    conn: Connection, apply_id: int, names: Collection[str], status: TaskStatus
) -> None:
    statement = keyed_update(apply_tasks, ("apply_id", "resource"), ("status",))
    params = [{"k_apply_id": apply_id, "k_resource": n, "v_status": status.value} for n in names]
    conn.execute(statement, params)


def _head(conn: Connection) -> tuple[int, str]:
    query = select(commits.c.rev, commits.c.hash).order_by(commits.c.rev.desc()).limit(1)
    row = conn.execute(query).first()
    return (0, GENESIS_HASH) if row is None else (int(row.rev), rows.hash_text(row.hash))


def _build_commits(
    apply_id: int,
    principal: str,
    message: str,
    entries: Sequence[CommitEntry],
    rev: int,
    previous_hash: str,
) -> list[Commit]:
    """Commits for ``entries`` numbered from ``rev + 1``, each hashed onto the one before."""
    built: list[Commit] = []
    for entry in entries:
        rev += 1
        commit = build_commit(
            entry.change,
            rev=rev,
            apply_id=apply_id,
            principal=principal,
            timestamp=entry.timestamp,
            message=message,
            previous_hash=previous_hash,
        )
        built.append(commit)
        previous_hash = commit.hash
    return built
