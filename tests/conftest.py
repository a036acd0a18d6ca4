"""Shared fixtures: a store URL for every back end, and a store opened on it.

``store_url`` runs each test on SQLite (a fresh file) and on PostgreSQL (a
fresh schema in the database named by ``RETROGRADE_TEST_PG_URL``). Without
that variable the PostgreSQL runs are skipped and say why; with it, a server
that cannot be reached fails the test instead of hiding it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

import retrograde
from retrograde.cli.main import cli
from retrograde.storage.connect import open_store
from retrograde.storage.sql.database import normalise_url
from retrograde.storage.sql.store import SqlStore

PG_URL_ENV = "RETROGRADE_TEST_PG_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store on each back end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'state.db'}"
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} is not set; set it to run the PostgreSQL back end")
    yield from _postgresql_schema(normalise_url(base))


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A store opened (and migrated) on ``store_url``, closed after the test."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()


def _postgresql_schema(base: URL) -> Iterator[str]:
    """A URL whose search path is a new, empty schema, dropped afterwards.

    One schema per test keeps tests independent and lets them run in parallel.
    """
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


Invoke = Callable[..., Result]


@pytest.fixture
def ctx(store_url: str, tmp_path: Path) -> Iterator[retrograde.Context]:
    """An open context on a fresh store, acting as principal ``tester`` in ``tmp_path``."""
    with retrograde.open_context(store_url, cwd=tmp_path, principal="tester") as context:
        yield context


@pytest.fixture
def invoke(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``retrograde --db <store> ARGS`` in-process, in ``tmp_path``, as principal ``tester``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RETROGRADE_PRINCIPAL", "tester")
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["--db", store_url, *args], input=input, catch_exceptions=False)

    return run
