"""Shared fixtures: a store URL for every back end, and a store opened on it.

``store_url`` runs each test on SQLite (a fresh file) and on PostgreSQL (a
fresh schema in the database named by ``RETROGRADE_TEST_PG_URL``). Without
that variable the PostgreSQL runs are skipped, all under one summary line that
says how many and why; with it, a server that cannot be reached fails the test
instead of hiding it (see :mod:`tests.backends`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import retrograde
from retrograde.cli.main import cli
from retrograde.config import SECRET_KEY_FILE_ENV
from retrograde.storage.connect import open_store
from retrograde.storage.sql.store import SqlStore
from tests.backends import (
    PG_URL_ENV,
    POSTGRESQL,
    needs_postgresql,
    postgresql_configured,
    postgresql_schema,
    sqlite_url,
)

_postgresql_schema = postgresql_schema
"""The name the history fixtures import this under."""


@pytest.fixture(params=["sqlite", POSTGRESQL])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store on each back end."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    yield from postgresql_schema()


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A store opened (and migrated) on ``store_url``, closed after the test."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(autouse=True, scope="session")
def _private_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The stores' key files go to a configuration directory of this run, never the user's
    (one for the session: stores shared by several tests keep their key)."""
    saved = {name: os.environ.get(name) for name in ("XDG_CONFIG_HOME", SECRET_KEY_FILE_ENV)}
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    os.environ.pop(SECRET_KEY_FILE_ENV, None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Without ``RETROGRADE_TEST_PG_URL``, skip the PostgreSQL runs from this one place.

    Raised here rather than in a fixture, every such skip has this line as its
    location, so ``-ra`` folds them all into one summary line with their count.
    """
    if not postgresql_configured() and needs_postgresql(item):
        pytest.skip(f"{PG_URL_ENV} is not set; set it to run the PostgreSQL back end")


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
