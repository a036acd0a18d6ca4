"""SQLAlchemy engines for the store: URL normalisation, SQLite pragmas, write transactions.

SQLite connections get, on every connect: a busy timeout (waiting beats failing
when two processes write), WAL journaling (readers never block the writer),
``synchronous=FULL`` (a commit survives power loss: docs/design.md, "Applying") and enforced
foreign keys. Python's sqlite3 module is told to leave transaction control to
us (the SQLAlchemy recipe), so that a write transaction starts with
``BEGIN IMMEDIATE``: it takes the write lock up front instead of upgrading a
read lock later, which is where two writers would otherwise deadlock.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from retrograde.errors import StoreError
from retrograde.storage.sql.driver_errors import mask_password, translated

WRITE = "retrograde_write"
"""Execution option marking an engine whose transactions write (SQLite: BEGIN IMMEDIATE)."""

BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10

SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)

_PG_DRIVER = "postgresql+psycopg"


def normalise_url(url: str) -> URL:
    """Parse ``url``; ``postgresql://`` and ``postgres://`` get the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"cannot open store {mask_password(url)}: not a database URL") from error
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername=_PG_DRIVER)
    return parsed


def create_store_engine(url: URL, shown: str) -> Engine:
    """An engine for ``url`` with the store's connection setup; ``shown`` names it in errors."""
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"cannot open store {shown}: {backend!r} is not sqlite or postgresql")
    with translated(shown, "open"):
        if backend == "sqlite":
            return _sqlite_engine(url)
        return _postgresql_engine(url)


def writer(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions are write transactions."""
    return engine.execution_options(**{WRITE: True})


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _postgresql_engine(url: URL) -> Engine:
    connect_args: dict[str, object] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(url, connect_args=connect_args)


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """Set the pragmas and hand transaction control to SQLAlchemy (see module docstring)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    """Emit the BEGIN sqlite3 no longer does: IMMEDIATE for writers, deferred for readers."""
    immediate = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
