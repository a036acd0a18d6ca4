"""The store contract: every repository of a store transaction, as one suite for every back end.

A back end's test module subclasses :class:`StoreContract` and supplies a
``store_url`` fixture (a fresh, empty database per test), as
``tests/storage/test_store_contract.py`` does for SQLite and PostgreSQL::

    class TestSqliteStore(StoreContract):
        @pytest.fixture
        def store_url(self, tmp_path: Path) -> str:
            return sqlite_url(tmp_path)

Each part asserts what :mod:`retrograde.storage.repositories` and
:mod:`retrograde.storage.base` state: errors, ordering, gapless revisions,
refused transitions, and what a transaction sees and leaves behind.
"""

from __future__ import annotations

from tests.storage.contract.applies import AppliesContract
from tests.storage.contract.history import CheckpointContract, SnapshotContract
from tests.storage.contract.lock import LockContract
from tests.storage.contract.log import LogContract
from tests.storage.contract.state import StagedContract, StateContract
from tests.storage.contract.tokens import TokenContract
from tests.storage.contract.transactions import TransactionContract

__all__ = ["StoreContract"]


class StoreContract(
    StateContract,
    StagedContract,
    LogContract,
    AppliesContract,
    LockContract,
    CheckpointContract,
    SnapshotContract,
    TokenContract,
    TransactionContract,
):
    """Every part of the store contract; see the module docstring for the hook."""
