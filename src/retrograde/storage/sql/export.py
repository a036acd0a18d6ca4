"""Writing one export segment: commits after a revision, with what they reference.

Commits are read in primary-key batches (never the whole log at once) and
written to a ``write(bytes)`` sink in the format of
:mod:`retrograde.storage.export_lines`: a segment line, every checkpoint, and
each commit preceded by its type definition and apply record the first time
the segment meets them. The caller fixes the last revision first (the head
when the export starts), so commits written while the export runs are left
for the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from sqlalchemy import Connection, RowMapping, func, select, tuple_

from retrograde.errors import NotFoundError
from retrograde.model.commit import GENESIS_HASH, Commit
from retrograde.model.reports import TransferReport
from retrograde.storage import export_lines
from retrograde.storage.sql import rows
from retrograde.storage.sql.schema import applies, checkpoints, commits, types
from retrograde.storage.sql.statements import chunks

EXPORT_BATCH = 5_000
"""Commits read per query."""

Write = Callable[[bytes], object]


def export_log(
    conn: Connection, write: Write, *, after_rev: int, exported_at: str
) -> TransferReport:
    """Write one segment with the commits after ``after_rev`` up to the head, a batch at a
    time; ``after_rev`` outside ``0..head`` is :class:`NotFoundError`."""
    head = int(conn.execute(select(func.max(commits.c.rev))).scalar() or 0)
    if not 0 <= after_rev <= head:
        raise NotFoundError("revision", after_rev)
    return export_segment(conn, write, after_rev=after_rev, upto_rev=head, exported_at=exported_at)


def export_segment(
    conn: Connection, write: Write, *, after_rev: int, upto_rev: int, exported_at: str
) -> TransferReport:
    """Write the segment of commits ``after_rev < rev <= upto_rev`` to ``write``."""
    after, last_hash = (after_rev, hash_at(conn, after_rev)), hash_at(conn, upto_rev)
    write(export_lines.segment_line(after, (upto_rev, last_hash), exported_at))
    marks = [export_lines.line("checkpoint", row) for row in _checkpoint_rows(conn)]
    write(b"".join(marks))
    seen_applies: set[int] = set()
    seen_types: set[tuple[str, int]] = set()
    count, first, last = 0, None, None
    for batch in commit_batches(conn, after_rev, upto_rev):
        lines = _type_lines(conn, batch, seen_types) + _apply_lines(conn, batch, seen_applies)
        lines.extend(export_lines.commit_line(commit) for commit in batch)
        write(b"".join(lines))
        count += len(batch)
        first = batch[0] if first is None else first
        last = batch[-1]
    return TransferReport(
        commits=count,
        first_rev=first.rev if first else None,
        last_rev=last.rev if last else None,
        last_hash=last_hash,
        applies=len(seen_applies),
        types=len(seen_types),
        checkpoints=len(marks),
    )


def hash_at(conn: Connection, rev: int) -> str:
    """The hash of revision ``rev`` (the genesis hash for 0); unknown revisions are NotFound."""
    if rev == 0:
        return GENESIS_HASH
    found = conn.execute(select(commits.c.hash).where(commits.c.rev == rev)).scalar()
    if found is None:
        raise NotFoundError("revision", rev)
    return rows.hash_text(found)


def commit_batches(
    conn: Connection, after_rev: int, upto_rev: int, size: int = EXPORT_BATCH
) -> Iterator[list[Commit]]:
    """The commits ``after_rev < rev <= upto_rev`` in revision order, ``size`` per list."""
    for batch in row_batches(conn, after_rev, upto_rev, size):
        yield [rows.commit_from_row(row) for row in batch]


def row_batches(
    conn: Connection, after_rev: int, upto_rev: int, size: int = EXPORT_BATCH
) -> Iterator[list[RowMapping]]:
    """The stored commit rows ``after_rev < rev <= upto_rev`` in revision order, in lists."""
    while True:
        query = (
            select(commits)
            .where(commits.c.rev > after_rev, commits.c.rev <= upto_rev)
            .order_by(commits.c.rev)
            .limit(size)
        )
        batch = list(conn.execute(query).mappings())
        if not batch:
            return
        yield batch
        after_rev = int(batch[-1]["rev"])


def _checkpoint_rows(conn: Connection) -> list[rows.Row]:
    query = select(checkpoints).order_by(checkpoints.c.rev, checkpoints.c.name)
    return [dict(row) for row in conn.execute(query).mappings()]


def _type_lines(conn: Connection, batch: list[Commit], seen: set[tuple[str, int]]) -> list[bytes]:
    wanted = {(c.type, c.version) for c in batch} - seen
    seen.update(wanted)
    found: list[bytes] = []
    for chunk in chunks(sorted(wanted)):
        query = select(types.c.definition).where(tuple_(types.c.name, types.c.version).in_(chunk))
        found.extend(
            export_lines.line("type", {"definition": rows.load(text)})
            for text in conn.execute(query).scalars()
        )
    return found


def _apply_lines(conn: Connection, batch: list[Commit], seen: set[int]) -> list[bytes]:
    wanted = {c.apply_id for c in batch if c.apply_id is not None} - seen
    seen.update(wanted)
    return [export_lines.line("apply", row) for row in apply_rows(conn, wanted)]


def apply_rows(conn: Connection, ids: Collection[int]) -> list[rows.Row]:
    """The records of applies ``ids`` as exported: ``applies --json`` fields, host and pid."""
    found: list[rows.Row] = []
    for chunk in chunks(sorted(ids)):
        query = select(applies).where(applies.c.id.in_(chunk)).order_by(applies.c.id)
        for row in conn.execute(query).mappings():
            record = rows.apply_from_row(row).to_json()
            found.append({**record, "host": row["host"], "pid": row["pid"]})
    return found
