"""Chaining what a store kept before it had chain entries: once, after an ``upgrade`` entry.

Used by schema revision 0012 and by ``import`` of an export written before
entries existed. The ``upgrade`` entry records the chain head as it was
(``rev`` and ``hash``), so the commits keep their hashes and anyone holding
the old head can still check it; every type definition, checkpoint and apply
record then gets its entry after it. Applies recorded before 0012 have no
known principal source (``unknown``).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from retrograde.model.chain import ChainEntry, EntryKind
from retrograde.model.jsonvalue import JSONObject
from retrograde.storage.sql import chain
from retrograde.storage.sql.schema import applies, checkpoints, commits, types


def chain_upgrade(conn: Connection, reason: str) -> ChainEntry:
    """Append an ``upgrade`` entry recording the head before it (reusable by any one-time
    re-encoding of the history: ``reason`` says which)."""
    chain.lock_chain(conn)
    point = chain.chain_head(conn)
    data: JSONObject = {"reason": reason, "rev": point.rev, "seq": point.seq, "hash": point.hash}
    return chain.append(conn, [(EntryKind.UPGRADE.value, reason, data)])[0]


def chain_existing(conn: Connection, reason: str) -> list[ChainEntry]:
    """Chain every stored type definition, checkpoint and apply record after an ``upgrade``
    entry; nothing at all for an empty store."""
    if not any(
        conn.execute(select(table).limit(1)).first() is not None
        for table in (commits, applies, types, checkpoints)
    ):
        return []
    return [chain_upgrade(conn, reason), *chain_stored(conn)]


def chain_stored(conn: Connection, *, applies_too: bool = True) -> list[ChainEntry]:
    """Chain every stored type definition, checkpoint and (``applies_too``) apply record
    that is new to the chain or differs from its latest entry."""
    made: list[ChainEntry] = []
    type_keys = [(row.name, int(row.version)) for row in conn.execute(select(types))]
    made += chain.note_types(conn, type_keys)
    marks = {row["name"]: dict(row) for row in conn.execute(select(checkpoints)).mappings()}
    made += chain.note(conn, EntryKind.CHECKPOINT, marks)
    if applies_too:
        ids = [int(i) for i in conn.execute(select(applies.c.id)).scalars()]
        made += chain.note_applies(conn, ids)
    return made
