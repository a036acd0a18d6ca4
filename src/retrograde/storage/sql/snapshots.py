"""Snapshots of committed state, and state at any revision from the nearest one.

"State at revision R" must never replay the whole log (docs/design.md, "Scale").
So every commit transaction asks :meth:`SqlSnapshots.take_if_due`, and every
:data:`SNAPSHOT_EVERY` revisions it stores the whole committed state as
zstd-compressed JSON (about 10 bytes per resource), unless the newest snapshot
is younger, in revisions, than a quarter of its resource count: so writing
snapshots costs at most about four resource rows per commit and their total
size stays in proportion to the log, however large the state. State at R is
then the nearest snapshot at or below R plus a forward replay
(:mod:`retrograde.planning.replay`) of at most a few thousand commits after
it, read as one primary-key range.

Snapshots are derived data: a store without any (e.g. an older one) answers
the same, only more slowly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from retrograde.errors import NotFoundError
from retrograde.memory import gc_paused
from retrograde.model.jsonvalue import parse
from retrograde.model.state import ResourceState
from retrograde.planning.replay import replay
from retrograde.storage.sql.log import SqlLog
from retrograde.storage.sql.log_reads import commits_between
from retrograde.storage.sql.rows import dump
from retrograde.storage.sql.schema import resources, snapshots

if TYPE_CHECKING:
    from retrograde.storage.sql.transaction import Connected

SNAPSHOT_EVERY = 5_000
"""A snapshot is considered each time a commit batch crosses a multiple of this revision."""

SPACING_PER_RESOURCE = 0.25
"""Revisions a snapshot must be older than, per resource it holds, before the next one."""

COMPRESSION_LEVEL = 3


class SqlSnapshots:
    """:class:`retrograde.storage.repositories.SnapshotRepository` in SQL."""

    def __init__(self, connected: Connected, log: SqlLog) -> None:
        self._c = connected
        self._log = log

    def take_if_due(self, before_rev: int, last_rev: int) -> bool:
        if last_rev // SNAPSHOT_EVERY == before_rev // SNAPSHOT_EVERY:
            return False
        return snapshot_if_due(self._c.writing(), before_rev, last_rev)

    def state_at(self, rev: int) -> dict[str, ResourceState]:
        if not 0 <= rev <= self._log.head()[0]:
            raise NotFoundError("revision", rev)
        return state_at(self._c.conn, rev)

    def all(self) -> Iterator[tuple[int, dict[str, ResourceState]]]:
        query = select(snapshots.c.rev, snapshots.c.state).order_by(snapshots.c.rev)
        for row in self._c.conn.execute(query):
            yield int(row.rev), _decode(row.state)


def snapshot_if_due(conn: Connection, before_rev: int, last_rev: int) -> bool:
    """Store a snapshot at ``last_rev`` when a batch crossing a multiple of the interval ends there.

    ``before_rev`` is the head before the batch; committed state in ``conn``'s
    transaction must already include the batch. Returns whether one was stored.
    """
    if last_rev // SNAPSHOT_EVERY == before_rev // SNAPSHOT_EVERY:
        return False
    latest = conn.execute(
        select(snapshots.c.rev, snapshots.c.resources).order_by(snapshots.c.rev.desc()).limit(1)
    ).first()
    if latest is not None and last_rev - latest.rev < latest.resources * SPACING_PER_RESOURCE:
        return False
    write_snapshot(conn, last_rev)
    return True


def write_snapshot(conn: Connection, rev: int) -> None:
    """Store committed state as it is in ``conn`` as the snapshot of ``rev``.

    The stored JSON texts of each resource are joined as they are, not parsed.
    """
    c = resources.c
    found = conn.execute(select(c.name, c.type, c.version, c.inputs, c.connections, c.tags))
    entries = [_entry(*row) for row in found]
    text = "{" + ",".join(entries) + "}"
    import zstandard  # only writing or reading a snapshot needs it

    blob = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL).compress(text.encode("utf-8"))
    conn.execute(snapshots.insert().values(rev=rev, resources=len(entries), state=blob))


def _entry(name: str, type_: str, version: int, inputs: str, connections: str, tags: str) -> str:
    """One resource of a snapshot, from its stored row (read as a tuple: 20,000 of them are
    read by name far more slowly)."""
    return (
        f'{dump(name)}:{{"type":{dump(type_)},"version":{int(version)},'
        f'"inputs":{inputs},"connections":{connections},"tags":{tags}}}'
    )


def nearest_snapshot(conn: Connection, rev: int) -> tuple[int, dict[str, ResourceState]]:
    """The newest snapshot at or below ``rev`` as ``(its rev, state)``; ``(0, {})`` if none."""
    query = (
        select(snapshots.c.rev, snapshots.c.state)
        .where(snapshots.c.rev <= rev)
        .order_by(snapshots.c.rev.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    if row is None:
        return 0, {}
    return int(row.rev), _decode(row.state)


def _decode(blob: bytes) -> dict[str, ResourceState]:
    import zstandard

    data: dict[str, Any] = parse(zstandard.ZstdDecompressor().decompress(blob))
    return {name: ResourceState.from_json(rs) for name, rs in data.items()}


def state_at(conn: Connection, rev: int) -> dict[str, ResourceState]:
    """Committed state as of revision ``rev``: nearest snapshot plus the commits after it."""
    with gc_paused():
        base_rev, state = nearest_snapshot(conn, rev)
        return replay(commits_between(conn, base_rev, rev), state)
