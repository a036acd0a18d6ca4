"""The contract of ``tx.applies``: apply records and their journal, moved only as tables allow."""

from __future__ import annotations

import dataclasses

import pytest

from retrograde.errors import NotFoundError, StateError
from retrograde.model.apply import ApplyStatus
from retrograde.model.change import ActionName
from retrograde.model.journal import TaskStatus
from retrograde.storage.base import Store
from retrograde.storage.repositories import CommitEntry
from tests import store_calls
from tests.storage.contract.fixtures import StoreFixtures
from tests.storage.samples import NODE, SERVICE, begin, change, node, plan_of, service, stamp


class AppliesContract(StoreFixtures):
    """Applies begin running with a pending task per planned action, and finish counted."""

    def test_begin_apply_journals_each_planned_action_as_pending(self, store: Store) -> None:
        """The journal keeps plan order, action, and the type and version the change was staged
        with."""
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

    def test_begin_apply_refuses_a_plan_with_unstaged_resources(self, store: Store) -> None:
        """A planned resource without a staged change is a StateError and records no apply."""
        store_calls.replace_staged(store, [change("a", None, node("1"))], [NODE])
        plan = plan_of([change("a", None, node("1")), change("ghost", None, node("2"))])
        with pytest.raises(StateError, match="ghost"):
            store_calls.begin_apply(store, "alice", "m", plan, stamp(0))
        with pytest.raises(NotFoundError):
            store_calls.get_apply(store, 1)

    def test_record_is_a_succeeded_apply_whose_tasks_are_done(self, store: Store) -> None:
        """An apply that ran no handler is stored succeeded, one done task per change."""
        store_calls.replace_staged(store, [], [NODE])
        changes = [change("a", node("1"), node("2")), change("b", None, node("3"))]
        with store.write() as tx:
            record = tx.applies.record("alice", "migrate", stamp(4), changes)
        assert record.status is ApplyStatus.SUCCEEDED
        assert store_calls.get_apply(store, record.id) == record
        tasks = store_calls.load_tasks(store, record.id)
        assert [(t.resource, t.status) for t in tasks] == [
            ("a", TaskStatus.DONE),
            ("b", TaskStatus.DONE),
        ]

    def test_task_statuses_move_only_as_the_transition_table_allows(self, store: Store) -> None:
        """Only the named tasks change; a move the table forbids (pending -> done) is refused
        whole."""
        record = begin(store, [change(n, None, node(n)) for n in ("a", "b", "c")])
        with store.write() as tx:
            tx.applies.start(record.id, {"a": 1, "c": 1})
            tx.applies.fail(record.id, {"c": {"exit_code": 1, "error": "boom"}})
        statuses = {t.resource: t.status for t in store_calls.load_tasks(store, record.id)}
        assert statuses == {
            "a": TaskStatus.STARTED,
            "b": TaskStatus.PENDING,
            "c": TaskStatus.FAILED,
        }
        with pytest.raises(StateError, match="cannot become done"), store.write() as tx:
            tx.applies.mark(record.id, ["a", "b"], TaskStatus.DONE)
        statuses = {t.resource: t.status for t in store_calls.load_tasks(store, record.id)}
        assert statuses["a"] is TaskStatus.STARTED

    def test_start_journals_the_attempt_number(self, store: Store) -> None:
        """A started task records which attempt it is on; a retry starts it again."""
        record = begin(store, [change("a", None, node("1"))])
        with store.write() as tx:
            tx.applies.start(record.id, {"a": 1})
            tx.applies.start(record.id, {"a": 2})
        (task,) = store_calls.load_tasks(store, record.id)
        assert (task.status, task.attempts) == (TaskStatus.STARTED, 2)

    def test_record_commits_updates_state_unstages_and_finishes_tasks(self, store: Store) -> None:
        """After the commit the resource is committed state, no longer staged, its task done."""
        changes = [change("node1", None, node("1", node="n1")), change("web", None, service("1"))]
        record = begin(store, [*changes, change("later", None, node("9"))])
        entries = [CommitEntry(c, stamp(1)) for c in changes]
        store_calls.record_commits(store, record.id, "alice", "deploy", entries)
        assert store_calls.load_state(store) == {
            "node1": changes[0].after,
            "web": changes[1].after,
        }
        assert list(store_calls.load_staged(store)) == ["later"]
        statuses = {t.resource: t.status for t in store_calls.load_tasks(store, record.id)}
        assert statuses == {"node1": TaskStatus.DONE, "web": TaskStatus.DONE, "later": "pending"}

    def test_resumption_drops_adds_and_retypes_tasks(self, store: Store) -> None:
        """Dropped tasks vanish, added ones come after the last remaining position, retyped ones
        take their change's type and version."""
        record = begin(store, [change(n, None, node(n)) for n in ("a", "b", "c")])
        web_v2 = dataclasses.replace(service("1"), version=2)
        store_calls.replace_staged(
            store, [change("a", None, web_v2)], [dataclasses.replace(SERVICE, version=2)]
        )
        with store.write() as tx:
            tx.applies.drop_tasks(record.id, ["c"])
            tx.applies.add_tasks(record.id, [change("d", None, node("4"))])
            tx.applies.retype_tasks(record.id, [change("a", None, web_v2)])
        tasks = store_calls.load_tasks(store, record.id)
        assert [(t.resource, t.type, t.version, t.position, t.status) for t in tasks] == [
            ("a", "service", 2, 0, TaskStatus.PENDING),
            ("b", "node", 1, 1, TaskStatus.PENDING),
            ("d", "node", 1, 2, TaskStatus.PENDING),
        ]

    def test_finish_apply_records_the_outcome(self, store: Store) -> None:
        """The finished record counts its tasks: failures with their errors, unfinished as
        skipped."""
        record = begin(store, [change(n, None, node(n)) for n in ("a", "b", "c", "d")])
        failures = {"a": {"exit_code": 2, "error": "boom ✗"}}
        with store.write() as tx:
            tx.applies.start(record.id, {"a": 1, "b": 1})
            tx.applies.fail(record.id, failures)
        finished = store_calls.finish_apply(store, record.id, ApplyStatus.FAILED, ended_at=stamp(9))
        assert finished == dataclasses.replace(
            record,
            status=ApplyStatus.FAILED,
            ended_at=stamp(9),
            failed=1,
            skipped=3,
            failures=failures,
        )
        assert store_calls.get_apply(store, record.id) == finished

    def test_finish_apply_refuses_transitions_the_table_forbids(self, store: Store) -> None:
        """A succeeded apply cannot be finished again; interrupted can go back to running."""
        record = begin(store, [change("a", None, node("1"))])
        store_calls.set_apply_status(store, record.id, ApplyStatus.INTERRUPTED)
        store_calls.set_apply_status(store, record.id, ApplyStatus.RUNNING)
        store_calls.finish_apply(store, record.id, ApplyStatus.SUCCEEDED, ended_at=stamp(9))
        with pytest.raises(StateError, match="succeeded to running"):
            store_calls.finish_apply(store, record.id, ApplyStatus.RUNNING, ended_at=stamp(9))
        assert store_calls.get_apply(store, record.id).status is ApplyStatus.SUCCEEDED

    def test_setting_the_status_an_apply_has_is_a_no_op(self, store: Store) -> None:
        """Even a finished apply accepts its own status; any other move from it is refused."""
        record = begin(store, [change("a", None, node("1"))])
        finished = store_calls.finish_apply(store, record.id, ApplyStatus.FAILED, ended_at="t")
        assert store_calls.set_apply_status(store, record.id, ApplyStatus.FAILED) == finished
        with pytest.raises(StateError):
            store_calls.set_apply_status(store, record.id, ApplyStatus.INTERRUPTED)
        assert store_calls.get_apply(store, record.id) == finished

    def test_page_and_unfinished_list_applies(self, store: Store) -> None:
        """page is newest first below a cursor; unfinished is running or interrupted, oldest
        first."""
        ids = [begin(store, [change(f"r{i}", None, node(str(i)))]).id for i in range(4)]
        store_calls.finish_apply(store, ids[0], ApplyStatus.SUCCEEDED, ended_at="t")
        store_calls.set_apply_status(store, ids[2], ApplyStatus.INTERRUPTED)
        store_calls.finish_apply(store, ids[3], ApplyStatus.FAILED, ended_at="t")
        assert [r.id for r in store_calls.list_applies(store)] == ids[::-1]
        assert [r.id for r in store_calls.list_applies(store, before=ids[2], limit=1)] == [ids[1]]
        unfinished = store_calls.unfinished_applies(store)
        assert [(r.id, r.status) for r in unfinished] == [
            (ids[1], ApplyStatus.RUNNING),
            (ids[2], ApplyStatus.INTERRUPTED),
        ]

    def test_unknown_applies_and_revisions_are_not_found(self, store: Store) -> None:
        """get_commit, get_apply and finish_apply name the unknown id in a NotFoundError."""
        with pytest.raises(NotFoundError) as missing_rev:
            store_calls.get_commit(store, 42)
        assert (missing_rev.value.kind, missing_rev.value.name) == ("revision", 42)
        with pytest.raises(NotFoundError) as missing_apply:
            store_calls.get_apply(store, 7)
        assert (missing_apply.value.kind, missing_apply.value.name) == ("apply", 7)
        with pytest.raises(NotFoundError):
            store_calls.finish_apply(store, 7, ApplyStatus.FAILED, ended_at="t")
