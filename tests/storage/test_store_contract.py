"""The store contract (:mod:`tests.storage.contract`) on every back end: SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import postgresql_schema, sqlite_url
from tests.storage.contract import StoreContract


class TestSqliteStore(StoreContract):
    """The contract on a fresh SQLite file."""

    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return sqlite_url(tmp_path)


@pytest.mark.postgresql
class TestPostgresqlStore(StoreContract):
    """The contract on a fresh schema of the server named by ``RETROGRADE_TEST_PG_URL``."""

    @pytest.fixture
    def store_url(self) -> Iterator[str]:
        yield from postgresql_schema()
