"""SQLAlchemy engines for the store: URL normalisation, SQLite pragmas, write transactions.

SQLite connections get, on every connect: a busy timeout (waiting beats failing
when two processes write), WAL journaling (readers never block the writer),
``synchronous=FULL`` (a commit survives power loss: docs/design.md, "Applying") and enforced
foreign keys. Python's sqlite3 module is told to leave transaction control to
us (the SQLAlchemy recipe), so that a write transaction starts with
``BEGIN IMMEDIATE``: it takes the write lock up front instead of upgrading a
read lock later, which is where two writers would otherwise deadlock.

Busy timeouts: a write transaction waits ``RETROGRADE_BUSY_TIMEOUT`` seconds
(default 30) for the database (SQLite: the write lock; PostgreSQL: row locks,
through ``lock_timeout``), a read transaction at most a few seconds (reads in
WAL mode never wait for a writer). SQLite's timeout is set before each BEGIN.

A SQLite file this process cannot write (the file, or its directory, when the
``-wal`` and ``-shm`` files cannot be made) is opened read-only (``mode=ro``;
``immutable=1`` when not even ``-shm`` can be created and there is no ``-wal``,
so nothing else can be writing it), without the pragmas that write.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from retrograde import config
from retrograde.errors import StoreError
from retrograde.storage.private_files import create_private
from retrograde.storage.sql.driver_errors import mask_password, translated

WRITE = "retrograde_write"
"""Execution option marking an engine whose transactions write (SQLite: BEGIN IMMEDIATE)."""

BUSY_TIMEOUT = "retrograde_busy_timeout_ms"
"""Where a pooled SQLite connection keeps the busy timeout last set on it (its ``info``)."""

PG_CONNECT_TIMEOUT_S = 10

SQLITE_PRAGMAS: tuple[str, ...] = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)
SQLITE_READ_ONLY_PRAGMAS: tuple[str, ...] = ("PRAGMA query_only=ON",)

_PG_DRIVER = "postgresql+psycopg"

WRITER_LOCK_KEY = 0x7265_7472_6F77
"""PostgreSQL advisory lock key every write transaction holds (``retrow`` in hex).

Distinct from the schema upgrade's key, which is held in the same transaction
while a new store is migrated."""


def normalise_url(url: str) -> URL:
    """Parse ``url``; ``postgresql://`` and ``postgres://`` get the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(f"cannot open store {mask_password(url)}: not a database URL") from error
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername=_PG_DRIVER)
    return parsed


def create_store_engine(url: URL, shown: str, *, read_only: bool = False) -> Engine:
    """An engine for ``url`` with the store's connection setup; ``shown`` names it in errors.

    ``read_only`` (SQLite, see :func:`sqlite_read_only`) opens the file read-only.
    """
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"cannot open store {shown}: {backend!r} is not sqlite or postgresql")
    with translated(shown, "open"):
        if backend == "sqlite":
            return _sqlite_engine(url, read_only)
        return _postgresql_engine(url)


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL, memory and ``file:`` URIs)."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else Path(database)


def sqlite_read_only(url: URL) -> bool:
    """Whether the store's existing SQLite file cannot be written by this process.

    Writing needs the file and, in WAL mode, its ``-wal`` and ``-shm`` files:
    writable where they exist, or a writable directory to create them in.
    """
    path = sqlite_file(url)
    if path is None or not path.exists():
        return False
    if not os.access(path, os.W_OK):
        return True
    if os.access(path.parent, os.W_OK):
        return False
    companions = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    return not all(os.access(p, os.W_OK) for p in companions)


def writer(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions are write transactions."""
    return engine.execution_options(**{WRITE: True})


def busy_timeouts() -> tuple[float, float]:
    """Seconds a write and a read wait for a busy database (see the module docstring)."""
    write = config.busy_timeout_seconds()
    return write, min(write, config.READ_BUSY_TIMEOUT_SECONDS)


def _sqlite_engine(url: URL, read_only: bool) -> Engine:
    path = sqlite_file(url)
    if read_only and path is not None:
        engine = create_engine(_read_only_url(url, path))
        pragmas = SQLITE_READ_ONLY_PRAGMAS
    else:
        if path is not None:
            create_private(path)
        engine = create_engine(url)
        pragmas = SQLITE_PRAGMAS
    write_wait, read_wait = busy_timeouts()

    def on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        """Set the pragmas and hand transaction control to SQLAlchemy (see module docstring)."""
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={round(write_wait * 1000)}")
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    def on_begin(connection: Connection) -> None:
        """Emit the BEGIN sqlite3 no longer does: IMMEDIATE for writers, deferred for readers,
        each after its busy timeout (set only when the connection's is another)."""
        immediate = connection.get_execution_options().get(WRITE, False)
        wait = round((write_wait if immediate else read_wait) * 1000)
        kept = connection.connection.info
        if kept.get(BUSY_TIMEOUT) != wait:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={wait}")
            kept[BUSY_TIMEOUT] = wait
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    return engine


def _read_only_url(url: URL, path: Path) -> URL:
    """A ``mode=ro`` URI for ``path``; ``immutable=1`` when no WAL exists nor can be made."""
    query = {"uri": "true", "mode": "ro"}
    shm, wal = (path.with_name(path.name + suffix) for suffix in ("-shm", "-wal"))
    if not shm.exists() and not wal.exists() and not os.access(path.parent, os.W_OK):
        query["immutable"] = "1"
    return url.set(database=f"file:{quote(str(path.resolve()))}", query=query)


def _postgresql_engine(url: URL) -> Engine:
    connect_args: dict[str, object] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    engine = create_engine(url, connect_args=connect_args)
    write_wait, _ = busy_timeouts()

    def on_begin(connection: Connection) -> None:
        """Writers take one at a time, as SQLite's ``BEGIN IMMEDIATE`` does: a transaction-scoped
        advisory lock, waited for at most the busy timeout (0 would mean forever)."""
        if connection.get_execution_options().get(WRITE, False):
            wait = max(1, round(write_wait * 1000))
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait}")
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY})")

    event.listen(engine, "begin", on_begin)
    return engine
