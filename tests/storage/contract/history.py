"""The contract of ``tx.checkpoints`` (named, immutable revisions) and ``tx.snapshots``."""

from __future__ import annotations

import pytest

from retrograde.errors import AlreadyExistsError, NotFoundError
from retrograde.model.checkpoint import Checkpoint
from retrograde.storage.base import Store
from tests import store_calls
from tests.storage.contract.fixtures import StoreFixtures
from tests.storage.samples import change, commit_all, node, stamp

SNAPSHOT_INTERVAL = 5_000
"""Revisions between snapshots (what the store documents; the slow test crosses it once)."""


def checkpoint(name: str, rev: int) -> Checkpoint:
    return Checkpoint(name, rev, f"why {name}", "alice", stamp(rev))


class CheckpointContract(StoreFixtures):
    """Checkpoints name revisions from 0 to the head, once each."""

    def test_checkpoints_round_trip_and_list_by_revision_then_name(self, store: Store) -> None:
        """Every field comes back; the list is ordered by revision, then name."""
        commit_all(store, [change("a", None, node("1")), change("b", None, node("2"))])
        added = [checkpoint("zeta", 1), checkpoint("two", 2), checkpoint("alpha", 1)]
        added.append(checkpoint("empty", 0))
        for one in added:
            store_calls.add_checkpoint(store, one)
        assert store_calls.get_checkpoint(store, "two") == added[1]
        assert [c.name for c in store_calls.list_checkpoints(store)] == [
            "empty",
            "alpha",
            "zeta",
            "two",
        ]

    def test_a_taken_name_is_already_exists_and_keeps_its_revision(self, store: Store) -> None:
        """A checkpoint is never moved: adding its name again is refused, naming it."""
        commit_all(store, [change("a", None, node("1")), change("b", None, node("2"))])
        store_calls.add_checkpoint(store, checkpoint("v1", 1))
        with pytest.raises(AlreadyExistsError) as taken:
            store_calls.add_checkpoint(store, checkpoint("v1", 2))
        assert (taken.value.kind, taken.value.name) == ("checkpoint", "v1")
        assert store_calls.get_checkpoint(store, "v1").rev == 1

    def test_revisions_outside_the_log_and_unknown_names_are_not_found(self, store: Store) -> None:
        """A revision below 0 or past the head is refused; so is reading an unknown name."""
        commit_all(store, [change("a", None, node("1"))])
        for rev in (-1, 2):
            with pytest.raises(NotFoundError) as outside:
                store_calls.add_checkpoint(store, checkpoint(f"at{rev}", rev))
            assert (outside.value.kind, outside.value.name) == ("revision", rev)
        with pytest.raises(NotFoundError) as unknown:
            store_calls.get_checkpoint(store, "nope")
        assert (unknown.value.kind, unknown.value.name) == ("checkpoint", "nope")
        assert store_calls.list_checkpoints(store) == []


class SnapshotContract(StoreFixtures):
    """State at any revision, from snapshots plus a replay."""

    def test_state_at_each_revision_replays_the_log(self, store: Store) -> None:
        """0 is empty, each revision has the state its commits made, past the head is unknown."""
        commit_all(store, [change("a", None, node("1")), change("b", None, node("2"))])
        commit_all(store, [change("a", node("1"), None)], start=5)
        assert [store_calls.state_at(store, rev) for rev in (0, 1, 2, 3)] == [
            {},
            {"a": node("1")},
            {"a": node("1"), "b": node("2")},
            {"b": node("2")},
        ]
        for rev in (-1, 4):
            with pytest.raises(NotFoundError) as outside:
                store_calls.state_at(store, rev)
            assert (outside.value.kind, outside.value.name) == ("revision", rev)

    def test_no_snapshot_is_due_within_one_interval(self, store: Store) -> None:
        """An append that crosses no interval takes no snapshot, and none are listed."""
        commit_all(store, [change("a", None, node("1"))])
        with store.write() as tx:
            assert tx.snapshots.take_if_due(0, 1) is False
        with store.read() as tx:
            assert list(tx.snapshots.all()) == []

    @pytest.mark.slow
    def test_crossing_the_interval_takes_a_snapshot_of_committed_state(self, store: Store) -> None:
        """The batch that crosses the interval stores state at its last revision, and state_at
        answers the same through it."""
        changes = [change(f"n{i:05d}", None, node(str(i))) for i in range(SNAPSHOT_INTERVAL + 2)]
        commit_all(store, changes[:10])
        commit_all(store, changes[10:], start=20)
        with store.read() as tx:
            snapshots = list(tx.snapshots.all())
            last = tx.log.head()[0]
            assert [rev for rev, _ in snapshots] == [last]
            assert snapshots[0][1] == tx.state.load()
            assert tx.snapshots.state_at(last - 1) == {
                c.resource: c.after for c in changes[:-1] if c.after is not None
            }
