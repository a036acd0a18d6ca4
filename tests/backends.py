"""Where the store tests get a fresh, empty database: a SQLite file or a PostgreSQL schema.

PostgreSQL runs only when ``RETROGRADE_TEST_PG_URL`` names a database. Without
it those tests are skipped (one line in the summary says how many and why);
with it, a server that cannot be reached fails them instead of hiding them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from retrograde.storage.sql.database import normalise_url

PG_URL_ENV = "RETROGRADE_TEST_PG_URL"

POSTGRESQL = "postgresql"
"""The back-end parameter, and the marker, of tests that need the PostgreSQL server."""

BACKEND_FIXTURES = frozenset({"store_url", "known"})
"""Fixtures parametrized by back end (``sqlite``, ``postgresql``)."""


def postgresql_configured() -> bool:
    """Whether this run was told where a PostgreSQL server is."""
    return bool(os.environ.get(PG_URL_ENV))


def sqlite_url(directory: Path) -> str:
    """The URL of a SQLite store in a new file under ``directory``."""
    return f"sqlite:///{directory / 'store' / 'state.db'}"


def postgresql_schema(base: URL | None = None) -> Iterator[str]:
    """A URL whose search path is a new, empty schema, dropped afterwards.

    One schema per test keeps tests independent and lets them run in parallel.
    ``base`` defaults to ``RETROGRADE_TEST_PG_URL``; a server that is unusable
    fails the test.
    """
    base = base or normalise_url(os.environ[PG_URL_ENV])
    schema = f"rt_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except SQLAlchemyError as error:
        admin.dispose()
        shown = base.render_as_string(hide_password=True)
        pytest.fail(f"{PG_URL_ENV} is set but PostgreSQL at {shown} is unusable: {error}")
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def own_database() -> Iterator[str]:
    """The URL of a new, empty database on the server of ``RETROGRADE_TEST_PG_URL``, dropped
    afterwards: for what other sessions of the same database would disturb (the row
    versions ``VACUUM`` may remove depend on every open transaction of the database)."""
    base = normalise_url(os.environ[PG_URL_ENV])
    name = f"rt_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as error:
        admin.dispose()
        shown = base.render_as_string(hide_password=True)
        pytest.fail(f"{PG_URL_ENV} is set but PostgreSQL at {shown} is unusable: {error}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def needs_postgresql(item: pytest.Item) -> bool:
    """Whether ``item`` runs on the PostgreSQL back end (by parameter or by marker)."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        backends = {callspec.params.get(name) for name in BACKEND_FIXTURES}
        if POSTGRESQL in backends:
            return True
    return item.get_closest_marker(POSTGRESQL) is not None
