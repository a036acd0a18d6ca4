"""The store contract, run against every back end (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, cast

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from retrograde.errors import NotFoundError, StateError, StoreError
from retrograde.model.apply import ApplyStatus
from retrograde.model.change import ActionName
from retrograde.model.commit import GENESIS_HASH, Commit
from retrograde.model.journal import TaskStatus
from retrograde.model.query import LogQuery
from retrograde.storage.connect import open_store
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sql.database import create_store_engine, normalise_url
from retrograde.storage.sql.schema import HEAD_REVISION, metadata
from retrograde.storage.sql.store import SqlStore
from retrograde.storage.sql.upgrade import alembic_config, current_revision, upgrade_to_head
from tests import store_calls

from .samples import (
    AWKWARD_INPUTS,
    NODE,
    SERVICE,
    begin,
    chain_breaks,
    change,
    commit_all,
    node,
    plan_of,
    service,
    stamp,
)

# schema and migrations


def test_migrations_create_exactly_the_tables_of_schema_py(store: SqlStore) -> None:
    """Opening a new store runs the migrations to head, and they match schema.py."""
    with store.engine.connect() as conn:
        assert current_revision(conn) == HEAD_REVISION
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_head_revision_constant_names_the_newest_migration() -> None:
    """The shortcut that skips Alembic compares against the real head revision."""
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_reopening_an_up_to_date_store_runs_no_migration(store_url: str) -> None:
    """A second open finds the schema at head, migrates nothing and keeps the data."""
    with open_store(store_url) as first:
        store_calls.replace_staged(first, [change("node1", None, node("10.0.0.1"))], [NODE])
    engine = create_store_engine(normalise_url(store_url), store_url)
    try:
        assert upgrade_to_head(engine) is False
    finally:
        engine.dispose()
    with open_store(store_url) as again:
        assert list(store_calls.load_staged(again)) == ["node1"]


def test_a_new_store_is_empty(store: SqlStore) -> None:
    """A fresh store has no state, nothing staged and an empty log at the genesis hash."""
    assert store_calls.head(store) == (0, GENESIS_HASH)
    assert store_calls.load_state(store) == {}
    assert store_calls.load_staged(store) == {}
    assert store_calls.load_types(store) == {}
    assert store_calls.log(store, LogQuery()) == []


# staged log and types


def test_staged_changes_round_trip_exactly(store: SqlStore) -> None:
    """Every kind of JSON value, connection and tag comes back equal to what was staged."""
    awkward = dataclasses.replace(service("10.0.0.2"), inputs=AWKWARD_INPUTS)
    changes = [
        change("svc_%1", None, awkward),
        change("node1", node("10.0.0.1", node="n1"), node("10.0.0.9", node="n1")),
        dataclasses.replace(change("old", service("10.0.0.3"), None), reverts=(4, 7)),
    ]
    store_calls.replace_staged(store, changes, [SERVICE, NODE])
    assert store_calls.load_staged(store) == {c.resource: c for c in changes}


def test_replace_staged_replaces_the_whole_staged_log(store: SqlStore) -> None:
    """Changes not in the new set disappear; the new set is all that is staged."""
    store_calls.replace_staged(
        store, [change("a", None, node("1")), change("b", None, node("2"))], [NODE]
    )
    replacement = [change("c", None, node("3"))]
    store_calls.replace_staged(store, replacement, [])
    assert store_calls.load_staged(store) == {"c": replacement[0]}


def test_types_are_upserted_and_filtered_by_key(store: SqlStore) -> None:
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


def test_discard_drops_named_changes_and_then_all(store: SqlStore) -> None:
    """Discard returns the sorted names it dropped, ignoring names that are not staged."""
    store_calls.replace_staged(
        store, [change(n, None, node(n)) for n in ("c", "a", "b", "d")], [NODE]
    )
    assert store_calls.discard_staged(store, ["d", "a", "nope"]) == ["a", "d"]
    assert sorted(store_calls.load_staged(store)) == ["b", "c"]
    assert store_calls.discard_staged(store) == ["b", "c"]
    assert store_calls.load_staged(store) == {}


# applies, journal, commits


def test_begin_apply_journals_each_planned_action_as_pending(store: SqlStore) -> None:
    """The journal keeps plan order, action, and the type and version the change was staged with."""
    changes = [change("node1", None, node("1")), change("web", service("1"), None)]
    record = begin(store, changes)
    assert record.status is ApplyStatus.RUNNING
    assert store_calls.get_apply(store, record.id) == record
    tasks = store_calls.load_tasks(store, record.id)
    assert [(t.resource, t.action, t.type, t.version, t.position) for t in tasks] == [
        ("node1", ActionName.RUN, "node", 1, 0),
        ("web", ActionName.REMOVE, "service", 1, 1),
    ]
    assert {t.status for t in tasks} == {TaskStatus.PENDING}


def test_begin_apply_refuses_a_plan_with_unstaged_resources(store: SqlStore) -> None:
    """A planned resource without a staged change is a StateError and records no apply."""
    store_calls.replace_staged(store, [change("a", None, node("1"))], [NODE])
    plan = plan_of([change("a", None, node("1")), change("ghost", None, node("2"))])
    with pytest.raises(StateError, match="ghost"):
        store_calls.begin_apply(store, "alice", "m", plan, stamp(0))
    with pytest.raises(NotFoundError):
        store_calls.get_apply(store, 1)


def test_task_statuses_move_only_as_the_transition_table_allows(store: SqlStore) -> None:
    """Only the named tasks change; a move the table forbids (pending -> done) is refused whole."""
    record = begin(store, [change(n, None, node(n)) for n in ("a", "b", "c")])
    with store.write() as tx:
        tx.applies.start(record.id, {"a": 1, "c": 1})
        tx.applies.fail(record.id, {"c": {"exit_code": 1, "error": "boom"}})
    statuses = {t.resource: t.status for t in store_calls.load_tasks(store, record.id)}
    assert statuses == {"a": TaskStatus.STARTED, "b": TaskStatus.PENDING, "c": TaskStatus.FAILED}
    with pytest.raises(StateError, match="cannot become done"), store.write() as tx:
        tx.applies.mark(record.id, ["a", "b"], TaskStatus.DONE)
    statuses = {t.resource: t.status for t in store_calls.load_tasks(store, record.id)}
    assert statuses["a"] is TaskStatus.STARTED


def test_record_commits_writes_gapless_revisions_chained_by_hash(store: SqlStore) -> None:
    """Revisions count up from 1 without gaps, each hash chains onto the previous one."""
    first = commit_all(store, [change("node1", None, node("1")), change("node2", None, node("2"))])
    second = commit_all(store, [change("web", None, service("1"))], start=10)
    commits = [*first, *second]
    assert [c.rev for c in commits] == [1, 2, 3]
    assert chain_breaks(commits) == []
    assert store_calls.head(store) == (3, second[-1].hash)


def test_commits_read_back_equal_the_commits_built(store: SqlStore) -> None:
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


def test_record_commits_updates_state_unstages_and_finishes_tasks(store: SqlStore) -> None:
    """After the commit the resource is committed state, no longer staged, its task done."""
    changes = [change("node1", None, node("1", node="n1")), change("web", None, service("1"))]
    record = begin(store, [*changes, change("later", None, node("9"))])
    entries = [CommitEntry(c, stamp(1)) for c in changes]
    store_calls.record_commits(store, record.id, "alice", "deploy", entries)
    assert store_calls.load_state(store) == {"node1": changes[0].after, "web": changes[1].after}
    assert list(store_calls.load_staged(store)) == ["later"]
    statuses = {t.resource: t.status for t in store_calls.load_tasks(store, record.id)}
    assert statuses == {"node1": TaskStatus.DONE, "web": TaskStatus.DONE, "later": "pending"}


def test_a_removal_deletes_the_resource_from_committed_state(store: SqlStore) -> None:
    """Committing a remove drops the resource row; an update replaces the row."""
    commit_all(store, [change("a", None, node("1")), change("b", None, node("2"))])
    commit_all(store, [change("a", node("1"), None), change("b", node("2"), node("3"))], start=5)
    assert store_calls.load_state(store) == {"b": node("3")}


def test_the_last_change_of_a_resource_in_a_batch_wins(store: SqlStore) -> None:
    """A remove then a re-create of one resource in one batch leaves the re-created state."""
    commit_all(store, [change("a", None, node("1"))])
    record = begin(store, [change("a", node("1"), None)])
    entries = [
        CommitEntry(change("a", node("1"), None), stamp(2)),
        CommitEntry(change("a", None, node("2")), stamp(3)),
    ]
    store_calls.record_commits(store, record.id, "alice", "redo", entries)
    assert store_calls.load_state(store) == {"a": node("2")}


def test_a_failing_entry_leaves_nothing_written(store: SqlStore) -> None:
    """When one entry of a batch cannot be stored, no commit, state, unstaging or task is kept."""
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


def test_concurrent_committers_keep_revisions_gapless(store_url: str) -> None:
    """Two stores committing on the same database at once never reuse or skip a revision."""
    with open_store(store_url) as setup:
        names = [f"r{i}" for i in range(40)]
        record = begin(setup, [change(n, None, node(n)) for n in names])

    def commit_half(half: list[str]) -> None:
        with open_store(store_url) as mine:
            for name in half:
                entry = CommitEntry(change(name, None, node(name)), stamp(1))
                store_calls.record_commits(mine, record.id, "alice", "m", [entry])

    threads = [threading.Thread(target=commit_half, args=(names[i::2],)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open_store(store_url) as check:
        commits = store_calls.log(check, LogQuery(limit=100))[::-1]
    assert [c.rev for c in commits] == list(range(1, 41))
    assert chain_breaks(commits) == []


def test_finish_apply_records_the_outcome(store: SqlStore) -> None:
    """The finished record counts its tasks: failures with their errors, unfinished as skipped."""
    record = begin(store, [change(n, None, node(n)) for n in ("a", "b", "c", "d")])
    failures = {"a": {"exit_code": 2, "error": "boom ✗"}}
    with store.write() as tx:
        tx.applies.start(record.id, {"a": 1, "b": 1})
        tx.applies.fail(record.id, failures)
    finished = store_calls.finish_apply(store, record.id, ApplyStatus.FAILED, ended_at=stamp(9))
    assert finished == dataclasses.replace(
        record, status=ApplyStatus.FAILED, ended_at=stamp(9), failed=1, skipped=3, failures=failures
    )
    assert store_calls.get_apply(store, record.id) == finished


def test_finish_apply_refuses_transitions_the_table_forbids(store: SqlStore) -> None:
    """A succeeded apply cannot be finished again; interrupted can go back to running."""
    record = begin(store, [change("a", None, node("1"))])
    store_calls.set_apply_status(store, record.id, ApplyStatus.INTERRUPTED)
    store_calls.set_apply_status(store, record.id, ApplyStatus.RUNNING)
    store_calls.finish_apply(store, record.id, ApplyStatus.SUCCEEDED, ended_at=stamp(9))
    with pytest.raises(StateError, match="succeeded to running"):
        store_calls.finish_apply(store, record.id, ApplyStatus.RUNNING, ended_at=stamp(9))
    assert store_calls.get_apply(store, record.id).status is ApplyStatus.SUCCEEDED


def test_unknown_applies_and_revisions_are_not_found(store: SqlStore) -> None:
    """get_commit, get_apply and finish_apply name the unknown id in a NotFoundError."""
    with pytest.raises(NotFoundError) as missing_rev:
        store_calls.get_commit(store, 42)
    assert (missing_rev.value.kind, missing_rev.value.name) == ("revision", 42)
    with pytest.raises(NotFoundError) as missing_apply:
        store_calls.get_apply(store, 7)
    assert (missing_apply.value.kind, missing_apply.value.name) == ("apply", 7)
    with pytest.raises(NotFoundError):
        store_calls.finish_apply(store, 7, ApplyStatus.FAILED, ended_at="t")


def test_a_read_transaction_never_writes(store: SqlStore) -> None:
    """Writing through a read transaction is refused and changes nothing."""
    with pytest.raises(StateError, match="read transaction"), store.read() as tx:
        tx.staged.replace([change("a", None, node("1"))])
    assert store_calls.load_staged(store) == {}


def test_a_write_transaction_is_all_or_nothing(store: SqlStore) -> None:
    """An error inside the block rolls back everything the block did."""
    with pytest.raises(RuntimeError), store.write() as tx:
        tx.staged.replace([change("a", None, node("1"))])
        tx.state.save_types([NODE])
        raise RuntimeError("stop")
    assert store_calls.load_staged(store) == {}
    assert store_calls.load_types(store) == {}


# reading state and the log


def test_load_state_filters_by_names_beyond_one_in_list(store: SqlStore) -> None:
    """A names filter larger than one IN chunk returns exactly the named, known resources."""
    changes = [change(f"n{i:04d}", None, node(str(i))) for i in range(1200)]
    commit_all(store, changes)
    wanted = [f"n{i:04d}" for i in range(0, 1200, 2)] + ["unknown"]
    loaded = store_calls.load_state(store, wanted)
    assert sorted(loaded) == sorted(wanted[:-1])
    assert loaded["n0100"] == node("100")


def _history(store: SqlStore) -> list[Commit]:
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


def test_log_filters_combine_and_list_newest_first(store: SqlStore) -> None:
    """Each filter narrows the log; results are always newest first."""
    commits = _history(store)
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


def test_log_pages_with_limit_and_before_rev_cursor(store: SqlStore) -> None:
    """Following before_rev from the last commit of each page walks the whole log once."""
    _history(store)
    pages: list[list[int]] = []
    cursor: int | None = None
    while page := store_calls.log(store, LogQuery(limit=4, before_rev=cursor)):
        pages.append([c.rev for c in page])
        cursor = page[-1].rev
    assert pages == [[6, 5, 4, 3], [2, 1]]


def test_log_by_input_scans_past_one_page_of_candidates(store: SqlStore) -> None:
    """An input filter keeps paging until it has enough exact matches."""
    changes = [change(f"n{i:03d}", None, node(str(i))) for i in range(450)]
    commit_all(store, [*changes[:1], change("web", None, service("1")), *changes[1:]])
    found = store_calls.log(store, LogQuery(input="port"))
    assert [(c.rev, c.resource) for c in found] == [(2, "web")]


def test_commit_entries_for_reverts_keep_their_revisions(store: SqlStore) -> None:
    """A commit that reverts revisions names them, and an ordinary commit names none."""
    commit_all(store, [change("a", None, node("1"))])
    undo = dataclasses.replace(change("a", node("1"), None), reverts=(1,))
    reverted = commit_all(store, [undo], start=5)
    assert store_calls.get_commit(store, reverted[0].rev).reverts == (1,)
    assert store_calls.get_commit(store, 1).reverts == ()
    assert store_calls.load_state(store) == {}
