"""Statement builders shared by the store: dialect upserts, keyed deletes, chunked IN lists.

Every builder returns one statement meant for ``executemany`` (a list of
parameter dicts), so a batch of any size is one call, never a loop of round
trips.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Delete,
    RowMapping,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.sql.dml import Insert, UpdateBase

T = TypeVar("T")

IN_CHUNK = 500
"""Names per IN list: far below SQLite's 32,766 host parameters and PostgreSQL's 65,535."""


def chunks(items: Collection[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``, in iteration order."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def insert_many(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT every row of ``rows`` (all with the same keys) in one :func:`execute_many`.

    Only for tables whose columns need no bind processing on SQLite (integers,
    text, bytes; booleans, which the driver stores as the same 1 and 0).
    """
    execute_many(conn, _insert(table), rows)


@functools.cache
def _insert(table: Table) -> Insert:
    return table.insert()


def upsert_many(
    conn: Connection, table: Table, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """:func:`upsert` of every row of ``rows`` in one :func:`execute_many`."""
    execute_many(conn, upsert(conn.dialect.name, table, keys), rows)


def execute_many(
    conn: Connection, statement: UpdateBase, params: Sequence[Mapping[str, Any]]
) -> int:
    """``statement`` (built once, e.g. by :func:`keyed_delete` or :func:`upsert`) for every
    parameter set of ``params`` (all with the same keys) in one ``executemany``; the number
    of rows it changed.

    On SQLite the statement is compiled once and goes straight to the driver with one
    tuple per parameter set: SQLAlchemy's per-row parameter processing costs more than
    SQLite's own work when a bulk load writes a million commits or a commit turn
    thousands of rows. Only for columns that need no bind processing there. Elsewhere
    it is the ordinary Core ``executemany``.
    """
    if not params:
        return 0
    if conn.dialect.name != "sqlite":
        return int(conn.execute(statement, list(params)).rowcount)
    key = (statement, tuple(params[0]))
    compiled = _SQLITE_STATEMENTS.get(key)
    if compiled is None:
        built = statement.compile(dialect=conn.dialect, column_keys=list(key[1]))
        compiled = _SQLITE_STATEMENTS[key] = (str(built), tuple(built.positiontup or ()))
    sql, order = compiled
    return int(conn.exec_driver_sql(sql, _tuples(params, order)).rowcount)


def _tuples(rows: Sequence[Mapping[str, Any]], order: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Each row's values in ``order`` (one C call per row: a commit turn has thousands)."""
    if len(order) < 2:
        return [tuple(row[name] for name in order) for row in rows]
    pick = operator.itemgetter(*order)
    return [pick(row) for row in rows]


_SQLITE_STATEMENTS: dict[tuple[UpdateBase, tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}
"""Compiled SQLite text of statements built once, by statement and parameter names."""


def driver_rows(conn: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``query`` as the driver returns them: plain tuples, values as the driver
    decodes them (integers, text, bytes), in the caller's transaction.

    For reads of a million rows (verify, export), where building a SQLAlchemy row
    for each costs about as much as the database's work. Only for columns that need
    no result processing.
    """
    compiled = query.compile(dialect=conn.dialect)
    params: Any = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def upsert(dialect: str, table: Table, keys: Sequence[str]) -> Insert:
    """INSERT that replaces every non-key column when a row with the same ``keys`` exists.

    Built once per table and keys (statements are immutable): building it
    costs more than running it for a commit turn's few rows.
    """
    return _upsert(dialect, table, tuple(keys))


@functools.cache
def _upsert(dialect: str, table: Table, keys: tuple[str, ...]) -> Insert:
    statement = _dialect_insert(dialect)(table)
    replaced = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    upserting: Insert = statement.on_conflict_do_update(index_elements=list(keys), set_=replaced)
    return upserting


def _dialect_insert(dialect: str) -> Callable[[Table], Any]:
    """The dialect's own ``insert`` (with ``on_conflict_do_update``), imported on first use:
    the PostgreSQL dialect module pulls in asyncpg's and more, which SQLite never needs."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


@functools.cache
def keyed_delete(table: Table, *keys: str) -> Delete:
    """DELETE of the row whose ``keys`` equal the parameters ``k_<key>`` (built once)."""
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
