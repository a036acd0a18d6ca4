"""Chain entries in SQL: the chain head, appending entries, and the records they cover.

Entries (:mod:`retrograde.model.chain`) are appended by the repositories
that keep the records (applies, checkpoints, type definitions) in the same
transaction as the record, through :func:`note`: an entry is added only
when the record is new to the chain or differs from its latest entry, so
loading an export that already carries the entries adds none. Appending
takes the chain's write lock (PostgreSQL: a table lock on ``commits`` that
appenders of commits take too), so commits and entries chain one after the
other across processes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import cast

from sqlalchemy import Connection, RowMapping, func, select, text, tuple_

from retrograde.errors import CorruptLogError
from retrograde.model.apply import ApplyStatus
from retrograde.model.chain import (
    ChainEntry,
    ChainPoint,
    EntryKind,
    begin_data,
    build_entry,
    end_data,
    type_key,
)
from retrograde.model.jsonvalue import JSON, JSONObject, canonical_bytes
from retrograde.model.types import TypeKey
from retrograde.storage.sql import rows
from retrograde.storage.sql.log_reads import head as commit_head
from retrograde.storage.sql.schema import applies, chain_entries, checkpoints, types
from retrograde.storage.sql.statements import chunks, insert_many

GREW = "retrograde.chain_grew"
"""The connection's ``info`` key set when a transaction appended to the chain (the store
signs the head such a transaction leaves)."""

UNFINISHED = (ApplyStatus.RUNNING.value, ApplyStatus.INTERRUPTED.value)


def lock_chain(conn: Connection) -> None:
    """Serialise appenders of commits and entries until the transaction ends (PostgreSQL;
    SQLite write transactions are serialised already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE commits IN SHARE ROW EXCLUSIVE MODE"))


def last_entry(conn: Connection) -> tuple[int, int, str] | None:
    """``(seq, after_rev, hash)`` of the newest entry, None when there is none."""
    query = select(chain_entries.c.seq, chain_entries.c.after_rev, chain_entries.c.hash)
    row = conn.execute(query.order_by(chain_entries.c.seq.desc()).limit(1)).first()
    if row is None:
        return None
    return int(row.seq), int(row.after_rev), rows.hash_text(row.hash)


def chain_head(conn: Connection) -> ChainPoint:
    """The last element of the chain: the newest commit, or an entry after it."""
    rev, hash_ = commit_head(conn)
    last = last_entry(conn)
    if last is None:
        return ChainPoint(rev, 0, hash_)
    seq, after_rev, entry_hash = last
    return ChainPoint(rev, seq, entry_hash if after_rev >= rev else hash_)


def append(conn: Connection, new: Sequence[tuple[str, str, JSONObject]]) -> list[ChainEntry]:
    """Chain ``(kind, key, data)`` after the head, in order; the entries made."""
    if not new:
        return []
    lock_chain(conn)
    point = chain_head(conn)
    built: list[ChainEntry] = []
    previous, seq = point.hash, point.seq
    for kind, key, data in new:
        seq += 1
        entry = build_entry(seq, point.rev, kind, key, data, previous)
        built.append(entry)
        previous = entry.hash
    insert_many(conn, chain_entries, [_row(entry) for entry in built])
    conn.info[GREW] = True
    return built


def load(conn: Connection, entries: Sequence[ChainEntry]) -> None:
    """Insert entries as they are (import: the caller has checked their chain)."""
    if entries:
        lock_chain(conn)
        insert_many(conn, chain_entries, [_row(entry) for entry in entries])


def note(
    conn: Connection, kind: str, records: Mapping[str, JSONObject], *, only_chained: bool = False
) -> list[ChainEntry]:
    """Chain each record of ``records`` (by key) that is new or differs from its latest entry
    (``only_chained``: only those that have an entry already, i.e. changes)."""
    if not records:
        return []
    known = latest(conn, kind, records.keys())
    new = [
        (kind, key, data)
        for key, data in sorted(records.items())
        if (key in known or not only_chained)
        and (key not in known or canonical_bytes(known[key]) != canonical_bytes(data))
    ]
    return append(conn, new)


def latest(conn: Connection, kind: str, keys: Collection[str]) -> dict[str, JSONObject]:
    """The data of the latest entry of ``kind`` for each of ``keys`` that has one."""
    found: dict[str, tuple[int, JSONObject]] = {}
    for chunk in chunks(set(keys)):
        query = select(chain_entries.c.key, chain_entries.c.seq, chain_entries.c.data).where(
            chain_entries.c.kind == kind, chain_entries.c.key.in_(chunk)
        )
        for row in conn.execute(query):
            if row.key not in found or found[row.key][0] < row.seq:
                found[row.key] = (int(row.seq), rows.load(row.data))
    return {key: data for key, (_, data) in found.items()}


def note_types(conn: Connection, keys: Collection[TypeKey]) -> list[ChainEntry]:
    """Chain the stored definitions of the types ``keys`` (a turn about to use them)."""
    found: dict[str, JSONObject] = {}
    for chunk in chunks(set(keys)):
        where = tuple_(types.c.name, types.c.version).in_(chunk)
        for row in conn.execute(select(types).where(where)):
            found[type_key(row.name, int(row.version))] = rows.load(row.definition)
    return note(conn, EntryKind.TYPE, found)


def note_applies(conn: Connection, ids: Collection[int]) -> list[ChainEntry]:
    """Chain the begin (and, once finished, the end) of the applies ``ids``."""
    begins: dict[str, JSONObject] = {}
    ends: dict[str, JSONObject] = {}
    for chunk in chunks(sorted(ids)):
        for row in conn.execute(select(applies).where(applies.c.id.in_(chunk))).mappings():
            record = apply_record(row)
            begins[str(row["id"])] = begin_data(record)
            if row["status"] not in UNFINISHED:
                ends[str(row["id"])] = end_data(record)
    return note(conn, EntryKind.APPLY_BEGIN, begins) + note(conn, EntryKind.APPLY_END, ends)


def apply_record(row: RowMapping) -> JSONObject:
    """An ``applies`` row as JSON, failures parsed (what the apply entries hold)."""
    record: JSONObject = {str(key): cast(JSON, row[key]) for key in row}
    record["failures"] = rows.load(str(row["failures"]))
    return record


def entries(conn: Connection) -> Iterator[ChainEntry]:
    """Every entry in sequence order; a row that cannot be read is CorruptLogError."""
    query = select(chain_entries).order_by(chain_entries.c.seq)
    for row in conn.execute(query).mappings():
        try:
            yield ChainEntry(
                int(row["seq"]),
                int(row["after_rev"]),
                row["kind"],
                row["key"],
                rows.load(row["data"]),
                rows.hash_text(row["hash"]),
            )
        except (ValueError, TypeError) as error:
            raise CorruptLogError(f"chain entry {row['seq']} cannot be read ({error!r})") from error


def stored_records(conn: Connection) -> dict[str, dict[str, JSONObject]]:
    """What the store holds now of each entry kind, by key (what ``verify`` compares)."""
    found: dict[str, dict[str, JSONObject]] = {kind.value: {} for kind in EntryKind}
    for row in conn.execute(select(types)).mappings():
        try:
            definition = rows.load(row["definition"])
        except ValueError:
            definition = {"unreadable": str(row["definition"])[:200]}
        found[EntryKind.TYPE][type_key(row["name"], int(row["version"]))] = definition
    for mark in conn.execute(select(checkpoints)).mappings():
        found[EntryKind.CHECKPOINT][mark["name"]] = dict(mark)
    for row in conn.execute(select(applies).order_by(applies.c.id)).mappings():
        record = apply_record(row)
        found[EntryKind.APPLY_BEGIN][str(row["id"])] = begin_data(record)
        if row["status"] not in UNFINISHED:
            found[EntryKind.APPLY_END][str(row["id"])] = end_data(record)
    return found


def entry_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(chain_entries)).scalar() or 0)


def _row(entry: ChainEntry) -> dict[str, object]:
    return {
        "seq": entry.seq,
        "after_rev": entry.after_rev,
        "kind": entry.kind,
        "key": entry.key,
        "data": rows.dump(entry.data),
        "hash": bytes.fromhex(entry.hash),
    }
