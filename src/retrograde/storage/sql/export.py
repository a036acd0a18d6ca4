"""The SQL side of export: the log's rows undecoded, and apply records with their origin.

:mod:`retrograde.history.export` writes the export format from these; here
is only what the tables hold, read a primary-key range or a chunk of ids at
a time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Connection, select

from retrograde.errors import CorruptLogError
from retrograde.model.commit import Commit, CommitBody
from retrograde.model.jsonvalue import JSONObject
from retrograde.storage.sql import rows
from retrograde.storage.sql.commit_bodies import body_from_tuple
from retrograde.storage.sql.schema import applies, commits
from retrograde.storage.sql.statements import chunks, driver_rows

BATCH = 5_000
"""Commits read per query."""

_DAMAGE = (ValueError, KeyError, TypeError, AttributeError, IndexError)
"""What decoding a damaged row can raise (broken JSON, a missing key, a wrong shape)."""


_HASH = rows.COMMIT_COLUMNS.index("hash")


class SqlStoredCommit:
    """:class:`retrograde.storage.repositories.StoredCommit` over one fetched row."""

    __slots__ = ("_row",)

    def __init__(self, row: Sequence[Any]) -> None:
        self._row = row

    @property
    def rev(self) -> int:
        return int(self._row[0])

    @property
    def hash(self) -> str:
        return rows.hash_text(self._row[_HASH])

    def decode(self) -> Commit:
        try:
            return rows.commit_from_tuple(self._row)
        except _DAMAGE as error:
            raise self._unreadable(error) from error

    def body(self) -> tuple[CommitBody, str]:
        try:
            return body_from_tuple(self._row)
        except _DAMAGE as error:
            raise self._unreadable(error) from error

    def _unreadable(self, error: Exception) -> CorruptLogError:
        return CorruptLogError(
            f"rev {self.rev}: the stored commit cannot be read ({error!r})", rev=self.rev
        )


def stored_batches(
    conn: Connection, after_rev: int, upto_rev: int, size: int = BATCH
) -> Iterator[list[SqlStoredCommit]]:
    """The rows ``after_rev < rev <= upto_rev`` in revision order, at most ``size`` a list.

    Each batch is one primary-key range query that resumes after the last row
    it saw, so a gap in the revisions costs no extra query; its rows are the
    driver's tuples (a SQLAlchemy row object per commit cost as much as reading it).
    """
    while after_rev < upto_rev:
        query = (
            select(commits)
            .where(commits.c.rev > after_rev, commits.c.rev <= upto_rev)
            .order_by(commits.c.rev)
            .limit(size)
        )
        batch = [SqlStoredCommit(row) for row in driver_rows(conn, query)]
        if not batch:
            return
        yield batch
        after_rev = batch[-1].rev


def apply_records(conn: Connection, ids: Collection[int]) -> list[JSONObject]:
    """The records of applies ``ids`` by id: ``applies --json`` fields, host and pid."""
    found: list[JSONObject] = []
    for chunk in chunks(sorted(ids)):
        query = select(applies).where(applies.c.id.in_(chunk)).order_by(applies.c.id)
        for row in conn.execute(query).mappings():
            record = cast(JSONObject, rows.apply_from_row(row).to_json())  # a JSON object
            origin = {"host": row["host"], "pid": row["pid"]}
            if row["principal_source"] is not None:
                origin["principal_source"] = row["principal_source"]
            found.append({**record, **origin})
    return found
