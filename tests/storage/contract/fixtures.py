"""What every part of the store contract stands on: a fresh database and store objects on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrograde.storage.base import Store
from retrograde.storage.connect import open_store


class StoreFixtures:
    """The hook of the contract: a back end supplies a ``store_url`` fixture (a fresh,
    empty database for each test) and, if ``open_store`` does not open it, ``make_store``.
    """

    url: str

    @pytest.fixture(autouse=True)
    def _database(self, store_url: str) -> None:
        self.url = store_url

    def make_store(self) -> Store:
        """A new store object on this test's database; each call gives an independent one."""
        return open_store(self.url)

    @pytest.fixture
    def store(self, _database: None) -> Iterator[Store]:
        """A store on this test's database, closed after the test."""
        opened = self.make_store()
        try:
            yield opened
        finally:
            opened.close()
