"""Translation of driver errors into :class:`StoreError`, at the one place they enter.

Messages are one line and name the store by its URL with the password masked,
because they end up in terminals and logs.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from retrograde.errors import ReadOnlyStoreError, StoreError

BASE_DRIVER_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, sqlite3.Error, OSError)


def driver_errors() -> tuple[type[Exception], ...]:
    """What the drivers and the file system raise; translated, never leaked.

    psycopg's errors count only once psycopg is loaded (it is imported lazily by
    SQLAlchemy for PostgreSQL URLs, and cannot raise before that), so a SQLite
    user never pays for importing it.
    """
    psycopg = sys.modules.get("psycopg")
    return (*BASE_DRIVER_ERRORS, psycopg.Error) if psycopg is not None else BASE_DRIVER_ERRORS


_PASSWORD = re.compile(r"(?P<head>://[^/:@?#]*:)[^@/?#]*@")


def mask_password(url: str) -> str:
    """``scheme://user:secret@host/db`` -> ``scheme://user:***@host/db``; other URLs unchanged."""
    return _PASSWORD.sub(r"\g<head>***@", url)


def describe(error: BaseException) -> str:
    """The driver's own first line of explanation, without SQL text or help links."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


_SQLITE_BUSY = frozenset({"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_TIMEOUT"})
_SQLITE_READ_ONLY = frozenset({"SQLITE_READONLY", "SQLITE_READONLY_DIRECTORY"})
_PG_BUSY = frozenset({"55P03"})  # lock_not_available: lock_timeout ran out
_PG_READ_ONLY = frozenset({"25006"})  # read_only_sql_transaction


def _codes(error: BaseException) -> tuple[str | None, str | None]:
    """(SQLite error name, PostgreSQL SQLSTATE) of a driver error, where it has them."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    return getattr(cause, "sqlite_errorname", None), getattr(cause, "sqlstate", None)


def is_busy(error: BaseException) -> bool:
    """Whether the database was held by another transaction past the busy timeout."""
    sqlite_name, sqlstate = _codes(error)
    return sqlite_name in _SQLITE_BUSY or sqlstate in _PG_BUSY


def is_read_only(error: BaseException) -> bool:
    """Whether a write was refused because the database can only be read here."""
    sqlite_name, sqlstate = _codes(error)
    return sqlite_name in _SQLITE_READ_ONLY or sqlstate in _PG_READ_ONLY


BusyError = Callable[[BaseException], StoreError]
"""Builds the error for a busy database (it may look up who holds the store)."""


@contextmanager
def translated(url: str, doing: str, *, busy: BusyError | None = None) -> Iterator[None]:
    """Run a block, re-raising driver errors as ``StoreError`` naming ``doing`` and the URL.

    A write refused by a read-only database is :class:`ReadOnlyStoreError`; a
    busy database is what ``busy`` makes of it, when given.
    """
    try:
        yield
    except driver_errors() as error:
        if is_read_only(error):
            raise ReadOnlyStoreError(mask_password(url)) from error
        if busy is not None and is_busy(error):
            raise busy(error) from error
        raise StoreError(f"cannot {doing} store {mask_password(url)}: {describe(error)}") from error
