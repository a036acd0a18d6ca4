"""The contract of ``store.read()`` and ``store.write()``: one moment, all or nothing."""

from __future__ import annotations

import threading
from contextlib import closing
from typing import cast

import pytest

from retrograde.errors import StateError, StoreError
from retrograde.model.commit import GENESIS_HASH
from retrograde.model.journal import TaskStatus
from retrograde.model.query import LogQuery
from retrograde.storage.base import Store
from retrograde.storage.repositories import CommitEntry
from tests import store_calls
from tests.storage.contract.fixtures import StoreFixtures
from tests.storage.samples import NODE, begin, change, commit_all, node, stamp

PEER_WAIT_SECONDS = 1.0
"""How long the first writer waits for a second one to read inside its transaction."""


class TransactionContract(StoreFixtures):
    """Transactions: what a read sees, and what a write leaves behind."""

    def test_a_read_transaction_never_writes(self, store: Store) -> None:
        """Writing through a read transaction is refused and changes nothing."""
        with pytest.raises(StateError, match="read transaction"), store.read() as tx:
            tx.staged.replace([change("a", None, node("1"))])
        assert store_calls.load_staged(store) == {}

    def test_a_write_transaction_is_all_or_nothing(self, store: Store) -> None:
        """An error inside the block rolls back everything the block did."""
        with pytest.raises(RuntimeError), store.write() as tx:
            tx.staged.replace([change("a", None, node("1"))])
            tx.state.save_types([NODE])
            raise RuntimeError("stop")
        assert store_calls.load_staged(store) == {}
        assert store_calls.load_types(store) == {}

    def test_a_failing_entry_leaves_nothing_written(self, store: Store) -> None:
        """When one entry of a batch cannot be stored, no commit, state, unstaging or task is
        kept."""
        changes = [change("a", None, node("1")), change("b", None, node("2"))]
        record = begin(store, changes)
        broken = CommitEntry(changes[1], cast(str, None))  # violates commits.timestamp NOT NULL
        with pytest.raises(StoreError):
            store_calls.record_commits(
                store, record.id, "alice", "m", [CommitEntry(changes[0], stamp(1)), broken]
            )
        assert store_calls.head(store) == (0, GENESIS_HASH)
        assert store_calls.load_state(store) == {}
        assert sorted(store_calls.load_staged(store)) == ["a", "b"]
        assert {t.status for t in store_calls.load_tasks(store, record.id)} == {TaskStatus.PENDING}
        retried = store_calls.record_commits(
            store, record.id, "alice", "m", [CommitEntry(changes[0], stamp(1))]
        )
        assert [c.rev for c in retried] == [1]

    def test_a_read_sees_one_moment_whatever_others_commit(self, store: Store) -> None:
        """A write committed by another store object after the read began is not seen in it."""
        first = commit_all(store, [change("a", None, node("1"))])
        with store.read() as tx, closing(self.make_store()) as other:
            before = (tx.log.head(), tx.state.load(), tx.staged.load())
            commit_all(other, [change("b", None, node("2"))], start=5)
            store_calls.replace_staged(other, [change("c", None, node("3"))], [NODE])
            assert (tx.log.head(), tx.state.load(), tx.staged.load()) == before
            assert tx.log.search(LogQuery()) == first
            assert tx.applies.page() == tx.applies.page(before=2)
        assert store_calls.head(store)[0] == 2
        assert sorted(store_calls.load_state(store)) == ["a", "b"]
        assert list(store_calls.load_staged(store)) == ["c"]

    def test_writers_are_serialised(self) -> None:
        """A writer that reads then writes is never interleaved with another writer: the second
        one's transaction sees the first one's result, so no update is lost."""
        first_read, second_read = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def add_one(store: Store, *, wait: threading.Event | None, tell: threading.Event) -> None:
            try:
                with store.write() as tx:
                    staged = tx.staged.load()
                    tell.set()
                    if wait is not None:
                        wait.wait(PEER_WAIT_SECONDS)
                    name = f"w{len(staged)}"
                    tx.staged.replace([*staged.values(), change(name, None, node(name))])
            except BaseException as error:  # reported by the assertion below
                errors.append(error)

        with closing(self.make_store()) as one, closing(self.make_store()) as two:
            store_calls.replace_staged(one, [], [NODE])
            writer = threading.Thread(
                target=add_one, args=(one,), kwargs={"wait": second_read, "tell": first_read}
            )
            writer.start()
            first_read.wait(30)
            add_one(two, wait=None, tell=second_read)
            writer.join()
            assert errors == [], errors
            assert sorted(store_calls.load_staged(one)) == ["w0", "w1"]
