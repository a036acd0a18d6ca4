"""Translation of driver errors into :class:`StoreError`, at the one place they enter.

Messages are one line and name the store by its URL with the password masked,
because they end up in terminals and logs.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from retrograde.errors import StoreError

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


@contextmanager
def translated(url: str, doing: str) -> Iterator[None]:
    """Run a block, re-raising driver errors as ``StoreError`` naming ``doing`` and the URL."""
    try:
        yield
    except driver_errors() as error:
        raise StoreError(f"cannot {doing} store {mask_password(url)}: {describe(error)}") from error
