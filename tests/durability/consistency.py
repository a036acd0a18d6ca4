"""The durability rule, checked on a store after a crash (docs/durability.md)."""

from __future__ import annotations

from collections import Counter

from retrograde.model.commit import Commit
from retrograde.model.journal import JournalTask, TaskStatus
from retrograde.model.query import LogQuery
from retrograde.planning.replay import replay
from retrograde.storage.base import Store
from tests import store_calls
from tests.storage.samples import chain_breaks

DONE = TaskStatus.DONE


def all_commits(store: Store) -> list[Commit]:
    return sorted(store_calls.log(store, LogQuery(limit=1_000_000)), key=lambda c: c.rev)


def check_consistent(store: Store, apply_id: int) -> dict[str, JournalTask]:
    """Assert the rule and return the apply's tasks by resource.

    Revisions are gapless and chained by hash; every task journaled ``done``
    has exactly one commit of the apply and no other task has one; committed
    state is the replay of the log; the staged log holds exactly the changes of
    the tasks not done (unfinished, failed or skipped).
    """
    commits = all_commits(store)
    head, head_hash = store_calls.head(store)
    assert [c.rev for c in commits] == list(range(1, head + 1))
    assert chain_breaks(commits, store_calls.chain_entries(store)) == []
    assert commits == [] or head_hash == commits[-1].hash
    tasks = {t.resource: t for t in store_calls.load_tasks(store, apply_id)}
    done = [name for name, t in tasks.items() if t.status is TaskStatus.DONE]
    committed = Counter(c.resource for c in commits if c.apply_id == apply_id)
    assert committed == Counter(done)
    assert store_calls.load_state(store) == replay(commits)
    assert set(store_calls.load_staged(store)) == {
        n for n, t in tasks.items() if t.status is not DONE
    }
    return tasks


def statuses(tasks: dict[str, JournalTask]) -> dict[str, str]:
    return {name: task.status.value for name, task in sorted(tasks.items())}
