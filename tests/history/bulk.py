"""Long histories written straight through the store (no handlers), for batch boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from retrograde.model.apply import ApplyStatus
from retrograde.model.change import make_change
from retrograde.model.plan import Plan
from retrograde.model.state import ResourceState
from retrograde.model.types import ActionSpec, InputKind, InputSpec, ResourceType
from retrograde.storage.base import Store
from retrograde.storage.repositories import CommitEntry
from tests import store_calls

NODE = ResourceType(
    "node",
    1,
    {"ip": InputSpec("ip", InputKind.STRING), "token": InputSpec("token", secret=True)},
    {"run": ActionSpec("shell", "true")},
)
BATCH = 500


def node(ip: int) -> ResourceState:
    return ResourceState("node", 1, {"ip": f"10.0.{ip // 250}.{ip % 250}", "token": f"t{ip}"})


def bulk_history(store: Store, total: int, *, resources: int = 100) -> None:
    """``total`` commits: each of ``resources`` nodes is run, then updated over and over.

    Commits go in batches of :data:`BATCH` through ``record_commits``, as an
    apply of an empty plan, with timestamps one second apart.
    """
    store_calls.replace_staged(store, [], [NODE])
    state: dict[str, ResourceState] = {}
    for start in range(0, total, BATCH):
        record = store_calls.begin_apply(store, "bulk", f"batch {start}", Plan(()), _stamp(start))
        entries = []
        for number in range(start, min(start + BATCH, total)):
            name = f"n{number % resources:03d}"
            after = node(number)
            change = make_change(name, state.get(name), after)
            assert change is not None
            entries.append(CommitEntry(change, _stamp(number)))
            state[name] = after
        store_calls.record_commits(store, record.id, "bulk", f"batch {start}", entries)
        store_calls.finish_apply(
            store,
            record.id,
            ApplyStatus.SUCCEEDED,
            ended_at=entries[-1].timestamp,
        )


def _stamp(second: int) -> str:
    moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=second)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
