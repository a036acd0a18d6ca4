"""The contract of ``tx.log``: the append-only, gapless, hash-chained commit log and its reads."""

from __future__ import annotations

import dataclasses
import threading
from contextlib import closing
from typing import Any

import pytest

from retrograde.errors import NotFoundError
from retrograde.model.commit import Commit
from retrograde.model.query import LogQuery
from retrograde.storage.base import Store
from retrograde.storage.repositories import CommitEntry
from tests import store_calls
from tests.storage.contract.fixtures import StoreFixtures
from tests.storage.samples import (
    AWKWARD_INPUTS,
    begin,
    chain_breaks,
    change,
    commit_all,
    node,
    service,
    stamp,
)


def history(store: Store) -> list[Commit]:
    """Six commits over two applies by two principals: revs 1-3 by alice, 4-6 by bob."""
    first = commit_all(
        store,
        [
            change("node1", None, node("1")),
            change("web", None, service("1")),
            change("db", None, node("5")),
        ],
    )
    second = commit_all(
        store,
        [
            change("node1", node("1"), node("2")),
            change("web", service("1"), service("2")),
            change("db", node("5"), None),
        ],
        principal="bob",
        start=10,
    )
    return [*first, *second]


class LogContract(StoreFixtures):
    """Appending commits and reading them back by revision, apply, range and query."""

    def test_record_commits_writes_gapless_revisions_chained_by_hash(self, store: Store) -> None:
        """Revisions count up from 1 without gaps, each hash chains onto the previous one."""
        first = commit_all(
            store, [change("node1", None, node("1")), change("node2", None, node("2"))]
        )
        second = commit_all(store, [change("web", None, service("1"))], start=10)
        commits = [*first, *second]
        assert [c.rev for c in commits] == [1, 2, 3]
        assert chain_breaks(commits, store_calls.chain_entries(store)) == []
        assert store_calls.head(store) == (3, second[-1].hash)

    def test_commits_read_back_equal_the_commits_built(self, store: Store) -> None:
        """get_commit and log return commits equal to those record_commits returned."""
        awkward = dataclasses.replace(service("10.0.0.2"), inputs=AWKWARD_INPUTS)
        reverting = dataclasses.replace(change("web", None, awkward), reverts=(3, 1))
        built = commit_all(store, [change("node1", None, node("1")), reverting])
        assert [store_calls.get_commit(store, c.rev) for c in built] == built
        assert store_calls.log(store, LogQuery()) == built[::-1]
        assert built[1].reverts == (3, 1)
        assert built[1].reverse == {
            k: {"from": v["to"], "to": v["from"]} for k, v in built[1].diff.items()
        }

    def test_commit_entries_for_reverts_keep_their_revisions(self, store: Store) -> None:
        """A commit that reverts revisions names them, and an ordinary commit names none."""
        commit_all(store, [change("a", None, node("1"))])
        undo = dataclasses.replace(change("a", node("1"), None), reverts=(1,))
        reverted = commit_all(store, [undo], start=5)
        assert store_calls.get_commit(store, reverted[0].rev).reverts == (1,)
        assert store_calls.get_commit(store, 1).reverts == ()
        assert store_calls.load_state(store) == {}

    def test_timestamps_never_go_back(self, store: Store) -> None:
        """An entry stamped before the commit ahead of it takes that commit's time."""
        record = begin(store, [change("a", None, node("1")), change("b", None, node("2"))])
        entries = [
            CommitEntry(change("a", None, node("1")), stamp(30)),
            CommitEntry(change("b", None, node("2")), stamp(10)),
        ]
        built = store_calls.record_commits(store, record.id, "alice", "m", entries)
        assert [c.timestamp for c in built] == [stamp(30), stamp(30)]
        assert [c.timestamp for c in store_calls.get_commits(store, [1, 2])] == [stamp(30)] * 2

    def test_concurrent_committers_keep_revisions_gapless(self) -> None:
        """Two stores committing on the same database at once never reuse or skip a revision."""
        with closing(self.make_store()) as setup:
            names = [f"r{i}" for i in range(40)]
            record = begin(setup, [change(n, None, node(n)) for n in names])

        def commit_half(half: list[str]) -> None:
            with closing(self.make_store()) as mine:
                for name in half:
                    entry = CommitEntry(change(name, None, node(name)), stamp(1))
                    store_calls.record_commits(mine, record.id, "alice", "m", [entry])

        threads = [threading.Thread(target=commit_half, args=(names[i::2],)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with closing(self.make_store()) as check:
            commits = store_calls.log(check, LogQuery(limit=100))[::-1]
            entries = store_calls.chain_entries(check)
        assert [c.rev for c in commits] == list(range(1, 41))
        assert chain_breaks(commits, entries) == []

    def test_unknown_revisions_and_applies_of_the_log_are_not_found(self, store: Store) -> None:
        """get_many names the lowest unknown revision, of_apply the unknown apply."""
        commit_all(store, [change("a", None, node("1")), change("b", None, node("2"))])
        with pytest.raises(NotFoundError) as lowest:
            store_calls.get_commits(store, [2, 9, 5])
        assert (lowest.value.kind, lowest.value.name) == ("revision", 5)
        with pytest.raises(NotFoundError) as missing_apply:
            store_calls.apply_commits(store, 7)
        assert (missing_apply.value.kind, missing_apply.value.name) == ("apply", 7)

    def test_reads_by_revision_apply_and_range_are_oldest_first(self, store: Store) -> None:
        """get_many, of_apply, between and batches all return commits in revision order."""
        commits = history(store)
        with store.read() as tx:
            assert tx.log.get_many([5, 1, 3]) == [commits[0], commits[2], commits[4]]
            assert tx.log.of_apply(commits[3].apply_id) == commits[3:]
            assert tx.log.between(1, 4) == commits[1:4]
            assert tx.log.between(6, 6) == []
            assert [c for batch in tx.log.batches(0, 6) for c in batch] == commits

    def test_log_filters_combine_and_list_newest_first(self, store: Store) -> None:
        """Each filter narrows the log; results are always newest first."""
        commits = history(store)
        apply_two = commits[3].apply_id

        def revs(**filters: Any) -> list[int]:
            return [c.rev for c in store_calls.log(store, LogQuery(**filters))]

        assert revs() == [6, 5, 4, 3, 2, 1]
        assert revs(resource="node1") == [4, 1]
        assert revs(apply_id=apply_two) == [6, 5, 4]
        assert revs(principal="alice") == [3, 2, 1]
        assert revs(action="remove") == [6]
        assert revs(rev_from=2, rev_to=4) == [4, 3, 2]
        assert revs(since=stamp(2), until=stamp(10)) == [4, 3, 2]
        assert revs(resource="web", principal="bob") == [5]
        assert revs(input="port") == [2]
        assert revs(input="ip", limit=2) == [6, 5]

    def test_log_pages_with_limit_and_before_rev_cursor(self, store: Store) -> None:
        """Following before_rev from the last commit of each page walks the whole log once."""
        history(store)
        pages: list[list[int]] = []
        cursor: int | None = None
        while page := store_calls.log(store, LogQuery(limit=4, before_rev=cursor)):
            pages.append([c.rev for c in page])
            cursor = page[-1].rev
        assert pages == [[6, 5, 4, 3], [2, 1]]

    def test_log_by_input_scans_past_one_page_of_candidates(self, store: Store) -> None:
        """An input filter keeps paging until it has enough exact matches."""
        changes = [change(f"n{i:03d}", None, node(str(i))) for i in range(450)]
        commit_all(store, [*changes[:1], change("web", None, service("1")), *changes[1:]])
        found = store_calls.log(store, LogQuery(input="port"))
        assert [(c.rev, c.resource) for c in found] == [(2, "web")]

    def test_blame_names_the_newest_commit_that_set_each_input(self, store: Store) -> None:
        """Each input maps to the last commit whose diff set it; names never set are absent."""
        commits = history(store)
        with store.read() as tx:
            blamed = tx.log.blame("web", ["ip", "port", "never"])
        assert blamed == {"ip": commits[4], "port": commits[1]}

    def test_kinds_before_give_the_type_a_resource_had_before_each_commit(
        self, store: Store
    ) -> None:
        """A resource's first commit has no earlier kind; later ones have the one it had."""
        history(store)
        assert store_calls.kinds_before(store, [1, 4, 5, 6]) == {
            4: ("node", 1),
            5: ("service", 1),
            6: ("node", 1),
        }
