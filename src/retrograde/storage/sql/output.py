"""Handler output in SQL: compressed rows beside commits and failures, under a store-wide cap.

Each attempt's ``[stdout, stderr]`` is stored as zstd-compressed JSON (empty
output as no bytes at all). ``output_totals`` keeps the running total of
those bytes, so the cap costs nothing until it is reached; past it, the
oldest rows go in one bounded read of at most :data:`DROP_BATCH` ids and
sizes and one ``DELETE … WHERE id <= cutoff``, down to
:data:`DROP_TO` of the cap so that dropping happens now and then, not on
every turn. The newest revision and apply dropped are remembered there too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, RowMapping, case, delete, select, update

from retrograde.config import log_cap_bytes
from retrograde.model.apply import HandlerOutput
from retrograde.storage.apply_repositories import OutputDropped
from retrograde.storage.sql.schema import action_output, output_totals
from retrograde.storage.sql.statements import insert_many

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected

COMPRESSION_LEVEL = 3

DROP_BATCH = 10_000
"""Rows read (oldest first) to find how many to drop: bounds one drop's cost. Should the
oldest rows of one batch not free enough, the next write drops more."""

DROP_TO = 0.875
"""When the cap is passed, the oldest output goes until this fraction of the cap is left."""

TOTALS_ID = 1


class SqlOutput:
    """:class:`retrograde.storage.apply_repositories.OutputRepository` in SQL."""

    def __init__(self, connected: Connected) -> None:
        self._c = connected

    def add(self, outputs: Sequence[HandlerOutput]) -> None:
        if not outputs:
            return
        conn = self._c.writing()
        rows = [_row(output) for output in outputs]
        insert_many(conn, action_output, rows)
        added = sum(row["size"] for row in rows)
        if not added:
            return  # empty output holds no bytes: the total cannot have passed the cap
        total = _add_to_total(conn, added)
        cap = log_cap_bytes()
        if total > cap:
            _drop_oldest(conn, total - int(cap * DROP_TO))

    def of_rev(self, rev: int) -> HandlerOutput | None:
        query = select(action_output).where(action_output.c.rev == rev)
        row = self._c.conn.execute(query.order_by(action_output.c.id)).mappings().first()
        return None if row is None else _from_row(row)

    def of_apply(self, apply_id: int, resource: str | None = None) -> list[HandlerOutput]:
        query = select(action_output).where(action_output.c.apply_id == apply_id)
        if resource is not None:
            query = query.where(action_output.c.resource == resource)
        rows = self._c.conn.execute(query.order_by(action_output.c.id)).mappings()
        return [_from_row(row) for row in rows]

    def dropped(self) -> OutputDropped:
        query = select(output_totals.c.dropped_rev, output_totals.c.dropped_apply)
        row = self._c.conn.execute(query.where(output_totals.c.id == TOTALS_ID)).one()
        return OutputDropped(rev=int(row.dropped_rev), apply_id=int(row.dropped_apply))


def _row(output: HandlerOutput) -> dict[str, Any]:
    blob = _compress(output.stdout, output.stderr)
    return {
        "apply_id": output.apply_id,
        "resource": output.resource,
        "attempt": output.attempt,
        "rev": output.rev,
        "ok": output.ok,
        "truncated": output.truncated,
        "size": len(blob),
        "output": blob,
    }


def _compress(stdout: str, stderr: str) -> bytes:
    if not stdout and not stderr:
        return b""
    text = json.dumps([stdout, stderr], ensure_ascii=False).encode("utf-8")
    import zstandard  # only an apply that keeps output, or logs, needs it

    return bytes(zstandard.ZstdCompressor(level=COMPRESSION_LEVEL).compress(text))


def _from_row(row: RowMapping) -> HandlerOutput:
    stdout, stderr = _decompress(bytes(row["output"]))
    return HandlerOutput(
        apply_id=int(row["apply_id"]),
        resource=row["resource"],
        attempt=int(row["attempt"]),
        ok=bool(row["ok"]),
        rev=None if row["rev"] is None else int(row["rev"]),
        stdout=stdout,
        stderr=stderr,
        truncated=bool(row["truncated"]),
    )


def _decompress(blob: bytes) -> tuple[str, str]:
    if not blob:
        return "", ""
    import zstandard

    stdout, stderr = json.loads(zstandard.ZstdDecompressor().decompress(blob))
    return str(stdout), str(stderr)


def _add_to_total(conn: Connection, added: int) -> int:
    """Add ``added`` bytes to the running total (one statement); the new total."""
    statement = (
        update(output_totals)
        .where(output_totals.c.id == TOTALS_ID)
        .values(bytes=output_totals.c.bytes + added)
        .returning(output_totals.c.bytes)
    )
    return int(conn.execute(statement).scalar_one())


def _drop_oldest(conn: Connection, excess: int) -> None:
    """Delete the oldest rows holding at least ``excess`` bytes (at most :data:`DROP_BATCH`)."""
    columns = (action_output.c.id, action_output.c.size, action_output.c.rev)
    oldest = select(*columns, action_output.c.apply_id).order_by(action_output.c.id)
    freed = cutoff = newest_rev = newest_apply = 0
    for row in conn.execute(oldest.limit(DROP_BATCH)).all():
        freed += int(row.size)
        cutoff = int(row.id)
        newest_rev = max(newest_rev, int(row.rev or 0))
        newest_apply = max(newest_apply, int(row.apply_id))
        if freed >= excess:
            break
    if not cutoff:
        return
    conn.execute(delete(action_output).where(action_output.c.id <= cutoff))
    conn.execute(
        update(output_totals)
        .where(output_totals.c.id == TOTALS_ID)
        .values(
            bytes=output_totals.c.bytes - freed,
            dropped_rev=_greatest(output_totals.c.dropped_rev, newest_rev),
            dropped_apply=_greatest(output_totals.c.dropped_apply, newest_apply),
        )
    )


def _greatest(column: Any, value: int) -> Any:
    """``max(column, value)`` in SQL, the same on SQLite and PostgreSQL."""
    return case((column < value, value), else_=column)
