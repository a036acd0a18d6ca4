"""Statement builders shared by the store: dialect upserts, keyed deletes, chunked IN lists.

Every builder returns one statement meant for ``executemany`` (a list of
parameter dicts), so a batch of any size is one call, never a loop of round
trips.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Delete,
    RowMapping,
    Table,
    Update,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

T = TypeVar("T")

IN_CHUNK = 500
"""Names per IN list: far below SQLite's 32,766 host parameters and PostgreSQL's 65,535."""


def chunks(items: Collection[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``, in iteration order."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def upsert(dialect: str, table: Table, keys: Sequence[str]) -> Insert:
    """INSERT that replaces every non-key column when a row with the same ``keys`` exists."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table)
    replaced = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    upserting: Insert = statement.on_conflict_do_update(index_elements=list(keys), set_=replaced)
    return upserting


def keyed_delete(table: Table, *keys: str) -> Delete:
    """DELETE of the row whose ``keys`` equal the parameters ``k_<key>``."""
    statement = delete(table)
    for key in keys:
        statement = statement.where(table.c[key] == bindparam(f"k_{key}"))
    return statement


def keyed_update(table: Table, keys: Sequence[str], columns: Sequence[str]) -> Update:
    """UPDATE of ``columns`` (parameters ``v_<column>``) where ``keys`` equal ``k_<key>``."""
    statement = update(table).values({c: bindparam(f"v_{c}") for c in columns})
    for key in keys:
        statement = statement.where(table.c[key] == bindparam(f"k_{key}"))
    return statement


def select_by_key(
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
