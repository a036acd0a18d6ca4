"""Reading commits by revision: a set of revisions, a range, one apply's, the head.

Each read is answered from an index: the primary key for revisions and
ranges, ``(apply_id, rev)`` for an apply. Functions take the connection of the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, select

from retrograde.errors import NotFoundError
from retrograde.model.commit import GENESIS_HASH, Commit
from retrograde.storage.sql import rows
from retrograde.storage.sql.schema import applies, commits
from retrograde.storage.sql.statements import chunks


def head(conn: Connection) -> tuple[int, str]:
    """The newest revision and its hash (``(0, GENESIS_HASH)`` when the log is empty)."""
    row = conn.execute(_HEAD).first()
    return (0, GENESIS_HASH) if row is None else (int(row.rev), rows.hash_text(row.hash))


_HEAD = select(commits.c.rev, commits.c.hash).order_by(commits.c.rev.desc()).limit(1)
"""Built once: every commit turn asks for the head."""


def commits_by_rev(conn: Connection, revs: Collection[int]) -> list[Commit]:
    """The commits of ``revs``, oldest first; the lowest unknown one is :class:`NotFoundError`."""
    found: dict[int, Commit] = {}
    for chunk in chunks(set(revs)):
        query = select(commits).where(commits.c.rev.in_(chunk))
        found.update((c.rev, c) for c in map(rows.commit_from_row, conn.execute(query).mappings()))
    missing = sorted(set(revs) - found.keys())
    if missing:
        raise NotFoundError("revision", missing[0])
    return [found[rev] for rev in sorted(found)]


def commits_between(conn: Connection, after_rev: int, upto_rev: int) -> list[Commit]:
    """The commits with ``after_rev < rev <= upto_rev``, oldest first (a primary-key range)."""
    query = (
        select(commits)
        .where(commits.c.rev > after_rev, commits.c.rev <= upto_rev)
        .order_by(commits.c.rev)
    )
    return [rows.commit_from_row(row) for row in conn.execute(query).mappings()]


def commits_of_apply(conn: Connection, apply_id: int) -> list[Commit]:
    """Every commit of apply ``apply_id``, oldest first; an unknown apply is NotFoundError."""
    exists = conn.execute(select(applies.c.id).where(applies.c.id == apply_id)).first()
    if exists is None:
        raise NotFoundError("apply", apply_id)
    query = select(commits).where(commits.c.apply_id == apply_id).order_by(commits.c.rev)
    return [rows.commit_from_row(row) for row in conn.execute(query).mappings()]


def kinds_before(conn: Connection, revs: Collection[int]) -> dict[int, tuple[str, int]]:
    """``rev -> (type, version)`` the commit's resource had just before it (previous commit).

    Commits keep only the type they leave behind, so undoing one that changed
    the version (an update or a migration) needs the one before. Each answer is
    one step down the ``(resource, rev)`` index; revisions whose resource has
    no earlier commit (a ``run``) are absent.
    """
    previous = commits.alias("previous")
    before = (
        select(previous.c.type, previous.c.version)
        .where(previous.c.resource == commits.c.resource, previous.c.rev < commits.c.rev)
        .order_by(previous.c.rev.desc())
        .limit(1)
    )
    found: dict[int, tuple[str, int]] = {}
    for chunk in chunks(set(revs)):
        query = select(
            commits.c.rev,
            before.with_only_columns(previous.c.type).scalar_subquery().label("type"),
            before.with_only_columns(previous.c.version).scalar_subquery().label("version"),
        ).where(commits.c.rev.in_(chunk))
        for row in conn.execute(query):
            if row.type is not None:
                found[int(row.rev)] = (str(row.type), int(row.version))
    return found
