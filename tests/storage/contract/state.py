"""The contract of ``tx.state`` (committed state, types) and ``tx.staged`` (the staged log)."""

from __future__ import annotations

import dataclasses

from retrograde.model.change import ActionName, Change
from retrograde.model.commit import GENESIS_HASH
from retrograde.model.query import LogQuery
from retrograde.storage.base import Store
from retrograde.storage.repositories import CommitEntry
from tests import store_calls
from tests.storage.contract.fixtures import StoreFixtures
from tests.storage.samples import (
    AWKWARD_INPUTS,
    NODE,
    SERVICE,
    begin,
    change,
    commit_all,
    node,
    service,
    stamp,
)


class StateContract(StoreFixtures):
    """Committed state and type definitions."""

    def test_a_new_store_is_empty(self, store: Store) -> None:
        """A fresh store has no state, nothing staged and an empty log at the genesis hash."""
        assert store_calls.head(store) == (0, GENESIS_HASH)
        assert store_calls.load_state(store) == {}
        assert store_calls.load_staged(store) == {}
        assert store_calls.load_types(store) == {}
        assert store_calls.log(store, LogQuery()) == []

    def test_types_are_upserted_and_filtered_by_key(self, store: Store) -> None:
        """Types round-trip, a redefinition replaces the stored one, and keys select."""
        store_calls.replace_staged(store, [], [SERVICE, NODE])
        changed_node = dataclasses.replace(NODE, base_dir="/elsewhere")
        service_v2 = dataclasses.replace(SERVICE, version=2)
        store_calls.replace_staged(store, [], [changed_node, service_v2])
        assert store_calls.load_types(store) == {
            ("service", 1): SERVICE,
            ("service", 2): service_v2,
            ("node", 1): changed_node,
        }
        assert store_calls.load_types(store, [("service", 2), ("missing", 1)]) == {
            ("service", 2): service_v2
        }

    def test_state_apply_keeps_the_last_change_of_each_resource(self, store: Store) -> None:
        """Changes apply in order: create, update and remove, the last one of a resource wins."""
        with store.write() as tx:
            tx.state.apply(
                [
                    change("a", None, node("1")),
                    change("b", None, node("2")),
                    change("a", node("1"), node("3")),
                    change("b", node("2"), None),
                    change("c", None, service("4")),
                ]
            )
        assert store_calls.load_state(store) == {"a": node("3"), "c": service("4")}

    def test_load_state_filters_by_names_beyond_one_in_list(self, store: Store) -> None:
        """A names filter larger than one IN chunk returns exactly the named, known resources."""
        changes = [change(f"n{i:04d}", None, node(str(i))) for i in range(1200)]
        commit_all(store, changes)
        wanted = [f"n{i:04d}" for i in range(0, 1200, 2)] + ["unknown"]
        loaded = store_calls.load_state(store, wanted)
        assert sorted(loaded) == sorted(wanted[:-1])
        assert loaded["n0100"] == node("100")

    def test_a_removal_deletes_the_resource_from_committed_state(self, store: Store) -> None:
        """Committing a remove drops the resource row; an update replaces the row."""
        commit_all(store, [change("a", None, node("1")), change("b", None, node("2"))])
        commit_all(
            store, [change("a", node("1"), None), change("b", node("2"), node("3"))], start=5
        )
        assert store_calls.load_state(store) == {"b": node("3")}

    def test_the_last_change_of_a_resource_in_a_batch_wins(self, store: Store) -> None:
        """A remove then a re-create of one resource in one batch leaves the re-created state."""
        commit_all(store, [change("a", None, node("1"))])
        record = begin(store, [change("a", node("1"), None)])
        entries = [
            CommitEntry(change("a", node("1"), None), stamp(2)),
            CommitEntry(change("a", None, node("2")), stamp(3)),
        ]
        store_calls.record_commits(store, record.id, "alice", "redo", entries)
        assert store_calls.load_state(store) == {"a": node("2")}


class StagedContract(StoreFixtures):
    """The staged log: at most one change per resource."""

    def test_staged_changes_round_trip_exactly(self, store: Store) -> None:
        """Every kind of JSON value, connection and tag comes back equal to what was staged."""
        awkward = dataclasses.replace(service("10.0.0.2"), inputs=AWKWARD_INPUTS)
        changes = [
            change("svc_%1", None, awkward),
            change("node1", node("10.0.0.1", node="n1"), node("10.0.0.9", node="n1")),
            dataclasses.replace(change("old", service("10.0.0.3"), None), reverts=(4, 7)),
        ]
        store_calls.replace_staged(store, changes, [SERVICE, NODE])
        assert store_calls.load_staged(store) == {c.resource: c for c in changes}

    def test_replace_staged_replaces_the_whole_staged_log(self, store: Store) -> None:
        """Changes not in the new set disappear; the new set is all that is staged."""
        store_calls.replace_staged(
            store, [change("a", None, node("1")), change("b", None, node("2"))], [NODE]
        )
        replacement = [change("c", None, node("3"))]
        store_calls.replace_staged(store, replacement, [])
        assert store_calls.load_staged(store) == {"c": replacement[0]}

    def test_discard_drops_named_changes_and_then_all(self, store: Store) -> None:
        """Discard returns the sorted names it dropped, ignoring names that are not staged."""
        store_calls.replace_staged(
            store, [change(n, None, node(n)) for n in ("c", "a", "b", "d")], [NODE]
        )
        assert store_calls.discard_staged(store, ["d", "a", "nope"]) == ["a", "d"]
        assert sorted(store_calls.load_staged(store)) == ["b", "c"]
        assert store_calls.discard_staged(store) == ["b", "c"]
        assert store_calls.load_staged(store) == {}

    def test_remove_drops_exactly_the_named_changes(self, store: Store) -> None:
        """remove (the commit path) drops the named changes and ignores names not staged."""
        store_calls.replace_staged(
            store, [change(n, None, node(n)) for n in ("a", "b", "c")], [NODE]
        )
        with store.write() as tx:
            tx.staged.remove(["c", "a", "nope"])
        assert sorted(store_calls.load_staged(store)) == ["b"]

    def test_staged_moves_keep_their_order_beside_a_change_of_the_same_name(
        self, store: Store
    ) -> None:
        """Moves come back in the order staged, apart from the value changes (one may be for
        the name a move gives); count counts both; replace with None keeps the moves, without
        moves drops them."""
        moves = [_move("b", "a"), _move("a", "b"), _move("b", "a")]
        value = change("a", node("1"), node("2"))
        with store.write() as tx:
            tx.staged.replace([value], moves)
        with store.read() as tx:
            assert tx.staged.moves() == moves
            assert tx.staged.load() == {"a": value}
            assert tx.staged.count() == 4
        with store.write() as tx:
            tx.staged.replace([change("c", None, node("3"))], None)  # the moves stay
        with store.read() as tx:
            assert (tx.staged.moves(), list(tx.staged.load())) == (moves, ["c"])
        store_calls.replace_staged(store, [value], [NODE])
        with store.read() as tx:
            assert (tx.staged.moves(), tx.staged.count()) == ([], 1)

    def test_remove_moves_keeps_the_value_changes_and_discard_all_drops_both(
        self, store: Store
    ) -> None:
        """The commit path drops only the moves; discarding everything names the moved too."""
        with store.write() as tx:
            tx.staged.replace([change("a", node("1"), node("2"))], [_move("b", "a")])
        with store.write() as tx:
            tx.staged.remove_moves()
        with store.read() as tx:
            assert (tx.staged.moves(), list(tx.staged.load())) == ([], ["a"])
        with store.write() as tx:
            tx.staged.replace([change("c", node("1"), node("2"))], [_move("z", "y")])
        assert store_calls.discard_staged(store) == ["c", "y"]
        with store.read() as tx:
            assert tx.staged.count() == 0

    def test_kinds_name_the_type_and_version_of_staged_changes(self, store: Store) -> None:
        """A removal is of the type it had before; names without a staged change are absent."""
        store_calls.replace_staged(
            store,
            [change("a", None, node("1")), change("web", service("1"), None)],
            [NODE, SERVICE],
        )
        with store.read() as tx:
            kinds = tx.staged.kinds(["a", "web", "ghost"])
        assert kinds == {"a": ("node", 1), "web": ("service", 1)}


def _move(old: str, new: str) -> Change:
    """The staged ``move`` of ``old`` (a node) to ``new``."""
    state = node("1")
    return Change(new, ActionName.MOVE, state, state, {}, moved_from=old)
