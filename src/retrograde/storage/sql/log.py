"""The commit log in SQL: appending with the hash chain, and reads by revision.

Each read is answered from an index: the primary key for revisions and
ranges, ``(apply_id, rev)`` for an apply, ``(resource, rev)`` for a
resource's history. Searches and blame live in
:mod:`retrograde.storage.sql.log_search`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select, text

from retrograde.errors import NotFoundError
from retrograde.model.commit import Commit, CommitBody, changed_inputs
from retrograde.model.commit_builder import build_commit
from retrograde.model.query import LogQuery
from retrograde.model.types import TypeKey
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sql import log_search, rows, schema
from retrograde.storage.sql.chain import GREW, chain_head, lock_chain
from retrograde.storage.sql.commit_bodies import body_row
from retrograde.storage.sql.export import SqlStoredCommit, stored_batches
from retrograde.storage.sql.log_reads import (
    commits_between,
    commits_by_rev,
    commits_of_apply,
    head,
    kinds_before,
)
from retrograde.storage.sql.schema import commit_inputs, commits
from retrograde.storage.sql.statements import insert_many

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected

BATCH = 5_000
"""Commits per batch of :meth:`SqlLog.batches`."""


class SqlLog:
    """:class:`retrograde.storage.repositories.LogRepository` in SQL."""

    def __init__(self, connected: Connected) -> None:
        self._c = connected

    def head(self) -> tuple[int, str]:
        return head(self._c.conn)

    def append(
        self, apply_id: int, principal: str, message: str, entries: Sequence[CommitEntry]
    ) -> list[Commit]:
        if not entries:
            return []
        conn = self._c.writing()
        lock_chain(conn)
        point = chain_head(conn)
        rev, previous_hash = point.rev, point.hash
        entries = log_search.in_time_order(conn, rev, entries)
        built = _build_commits(apply_id, principal, message, entries, rev, previous_hash)
        insert_many(conn, commits, [rows.commit_row(c) for c in built])
        index_inputs(conn, [(c.rev, c.changed_inputs()) for c in built])
        conn.info[GREW] = True
        return built

    def get(self, rev: int) -> Commit:
        query = select(commits).where(commits.c.rev == rev)
        row = self._c.conn.execute(query).mappings().first()
        if row is None:
            raise NotFoundError("revision", rev)
        return rows.commit_from_row(row)

    def get_many(self, revs: Collection[int]) -> list[Commit]:
        return commits_by_rev(self._c.conn, revs)

    def of_apply(self, apply_id: int) -> list[Commit]:
        return commits_of_apply(self._c.conn, apply_id)

    def between(self, after_rev: int, upto_rev: int) -> list[Commit]:
        return commits_between(self._c.conn, after_rev, upto_rev)

    def batches(self, after_rev: int, upto_rev: int) -> Iterator[list[Commit]]:
        low = after_rev
        while low < upto_rev:
            high = min(upto_rev, low + BATCH)
            yield commits_between(self._c.conn, low, high)
            low = high

    def stored(self, after_rev: int, upto_rev: int) -> Iterator[Sequence[SqlStoredCommit]]:
        return stored_batches(self._c.conn, after_rev, upto_rev)

    def load(self, commits: Sequence[tuple[CommitBody, str]]) -> None:
        conn = self._c.writing()
        if self._c.dialect == "postgresql":
            conn.execute(text("LOCK TABLE commits IN SHARE ROW EXCLUSIVE MODE"))
        if commits:
            insert_many(conn, schema.commits, [body_row(body, hash_) for body, hash_ in commits])
            index_inputs(conn, [(body["rev"], changed_inputs(body)) for body, _ in commits])
            conn.info[GREW] = True

    @contextmanager
    def indexes_deferred(self) -> Iterator[None]:
        """SQLite: drop the commit log's secondary indexes, build them again at the end.

        Building an index over the loaded rows costs less than keeping four indexes
        up to date on every insert. The DDL runs inside the write transaction, so
        a crash before the end leaves the store as it was, indexes and all. Not on
        PostgreSQL, where ``DROP INDEX`` would lock readers out of ``commits`` until
        the import ends.
        """
        conn = self._c.writing()
        if self._c.dialect != "sqlite":
            yield
            return
        secondary = sorted(schema.commits.indexes, key=lambda index: str(index.name))
        for index in secondary:
            index.drop(conn)
        yield
        for index in secondary:
            index.create(conn)

    def indexed_inputs(self) -> int:
        query = select(func.count()).select_from(commit_inputs)
        return int(self._c.conn.execute(query).scalar() or 0)

    def search(self, query: LogQuery) -> list[Commit]:
        return log_search.log_page(self._c.conn, query, head(self._c.conn)[0])

    def blame(self, resource: str, names: Collection[str]) -> dict[str, Commit]:
        return log_search.blame(self._c.conn, resource, names)

    def kinds_before(self, revs: Collection[int]) -> dict[int, TypeKey]:
        return kinds_before(self._c.conn, revs)


def index_inputs(conn: Connection, changed: Sequence[tuple[int, Collection[str]]]) -> None:
    """Record which inputs each commit ``(rev, inputs it changed)`` changed (the ``--input``
    index)."""
    found = [{"name": name, "rev": rev} for rev, names in changed for name in names]
    if found:
        insert_many(conn, commit_inputs, found)


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
