"""Checkpoints in SQL: inserted once, read by name, listed by revision; never changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import Connection, RowMapping, select

from retrograde.errors import AlreadyExistsError, NotFoundError
from retrograde.model.chain import EntryKind
from retrograde.model.checkpoint import Checkpoint
from retrograde.model.jsonvalue import JSONObject
from retrograde.storage.sql import chain
from retrograde.storage.sql.log import SqlLog
from retrograde.storage.sql.schema import checkpoints

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected


class SqlCheckpoints:
    """:class:`retrograde.storage.repositories.CheckpointRepository` in SQL."""

    def __init__(self, connected: Connected, log: SqlLog) -> None:
        self._c = connected
        self._log = log

    def add(self, checkpoint: Checkpoint) -> None:
        conn = self._c.writing()
        insert_checkpoint(conn, checkpoint, self._log.head()[0])
        chain.note(
            conn, EntryKind.CHECKPOINT, {checkpoint.name: cast(JSONObject, checkpoint.to_json())}
        )

    def get(self, name: str) -> Checkpoint:
        return get_checkpoint(self._c.conn, name)

    def list(self) -> list[Checkpoint]:
        return list_checkpoints(self._c.conn)


def insert_checkpoint(conn: Connection, checkpoint: Checkpoint, head: int) -> None:
    """Store ``checkpoint``; its name must be new and its revision ``0 <= rev <= head``."""
    if not 0 <= checkpoint.rev <= head:
        raise NotFoundError("revision", checkpoint.rev)
    existing = _select(conn, checkpoint.name)
    if existing is not None:
        raise AlreadyExistsError("checkpoint", checkpoint.name, detail=f"at rev {existing.rev}")
    conn.execute(checkpoints.insert().values(checkpoint.to_json()))


def get_checkpoint(conn: Connection, name: str) -> Checkpoint:
    """The checkpoint called ``name``, or :class:`NotFoundError`."""
    found = _select(conn, name)
    if found is None:
        raise NotFoundError("checkpoint", name)
    return found


def list_checkpoints(conn: Connection) -> list[Checkpoint]:
    """Every checkpoint, by revision then name."""
    query = select(checkpoints).order_by(checkpoints.c.rev, checkpoints.c.name)
    return [_from_row(row) for row in conn.execute(query).mappings()]


def _select(conn: Connection, name: str) -> Checkpoint | None:
    row = conn.execute(select(checkpoints).where(checkpoints.c.name == name)).mappings().first()
    return None if row is None else _from_row(row)


def _from_row(row: RowMapping) -> Checkpoint:
    return Checkpoint(
        name=row["name"],
        rev=int(row["rev"]),
        description=row["description"],
        principal=row["principal"],
        timestamp=row["timestamp"],
    )
