"""Running a plan: dispatch ready actions, group-commit finished ones, skip dependents of failures.

The calling thread is the only one that touches the store. Worker threads (or
remote workers) only run handlers; their results come back through a queue.
Every loop turn commits all results that arrived together in one transaction
(group commit), each commit still atomic with its state update.
"""

from __future__ import annotations

import queue
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from retrograde.engine.clock import utc_now
from retrograde.engine.requests import TypeKey, action_request
from retrograde.engine.schedule import Schedule
from retrograde.executors.base import Executor
from retrograde.model.apply import ActionResult, ApplyStatus
from retrograde.model.change import Change
from retrograde.model.jsonvalue import JSON
from retrograde.model.plan import Plan
from retrograde.model.types import ResourceType
from retrograde.storage.base import CommitEntry, Store


class Progress(Protocol):
    """Receives apply progress; called from the thread that runs the plan."""

    def begin(self, total: int) -> None: ...

    def action_done(self, resource: str, action: str, ok: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """What an apply came to (``apply --json``)."""

    apply_id: int | None
    status: ApplyStatus
    commits: tuple[int, ...] = ()
    failed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    failures: Mapping[str, Mapping[str, JSON]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "apply_id": self.apply_id,
            "status": self.status.value,
            "commits": list(self.commits),
            "failed": list(self.failed),
            "skipped": list(self.skipped),
            "failures": {k: dict(v) for k, v in self.failures.items()},
        }


@dataclass
class _Run:
    """Mutable bookkeeping of one apply in progress."""

    apply_id: int
    commits: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: dict[str, dict[str, JSON]] = field(default_factory=dict)
    in_flight: int = 0


def run_plan(
    store: Store,
    plan: Plan,
    changes: Mapping[str, Change],
    types: Mapping[TypeKey, ResourceType],
    executor: Executor,
    *,
    principal: str,
    message: str,
    progress: Progress | None = None,
) -> ApplyReport:
    """Apply ``plan``: one commit per successful action; failures skip their dependents."""
    for name in changes:  # refuse before anything is recorded if a type is missing
        action_request(changes[name], types, 0)
    record = store.begin_apply(principal, message, plan, utc_now())
    run = _Run(record.id)
    schedule = Schedule(plan)
    results: queue.SimpleQueue[tuple[str, ActionResult]] = queue.SimpleQueue()
    actions = {a.resource: a.action.value for a in plan.actions}
    if progress:
        progress.begin(len(plan))

    def submit(names: list[str]) -> None:
        for name in names:
            future = executor.submit(action_request(changes[name], types, run.apply_id))
            future.add_done_callback(partial(_deliver, results, name))
        run.in_flight += len(names)

    submit(schedule.initial())
    while run.in_flight:
        batch = _drain(results)
        run.in_flight -= len(batch)
        done = _commit_batch(store, run, batch, changes, principal, message)
        for name, result in batch:
            if not result["ok"]:
                _record_failure(run, schedule, name, result)
            if progress:
                progress.action_done(name, actions[name], result["ok"])
        submit(schedule.succeeded(done))
    return _finish(store, run)


def _deliver(
    results: queue.SimpleQueue[tuple[str, ActionResult]],
    name: str,
    future: Future[ActionResult],
) -> None:
    """Done-callback (runs on a worker thread): hand the result to the committing thread."""
    results.put((name, _result_of(name, future)))


def _result_of(name: str, future: Future[ActionResult]) -> ActionResult:
    """The executor contract says futures never raise; if one does, it is a failed action."""
    try:
        return future.result()
    except Exception as exc:  # a failure value, on purpose
        return {"resource": name, "ok": False, "exit_code": None, "error": repr(exc), "duration": 0}


def _drain(results: queue.SimpleQueue[tuple[str, ActionResult]]) -> list[tuple[str, ActionResult]]:
    """Wait for one result, then take every other result already there (the group)."""
    batch = [results.get()]
    while True:
        try:
            batch.append(results.get_nowait())
        except queue.Empty:
            return batch


def _commit_batch(
    store: Store,
    run: _Run,
    batch: list[tuple[str, ActionResult]],
    changes: Mapping[str, Change],
    principal: str,
    message: str,
) -> list[str]:
    """Commit the successful results of ``batch`` in one transaction; return their names."""
    done = [name for name, result in batch if result["ok"]]
    if done:
        now = utc_now()
        entries = [CommitEntry(changes[name], now) for name in done]
        commits = store.record_commits(run.apply_id, principal, message, entries)
        run.commits.extend(c.rev for c in commits)
    return done


def _record_failure(run: _Run, schedule: Schedule, name: str, result: ActionResult) -> None:
    run.failed.append(name)
    run.failures[name] = {"exit_code": result["exit_code"], "error": result["error"]}
    run.skipped.extend(schedule.failed(name))


def _finish(store: Store, run: _Run) -> ApplyReport:
    status = ApplyStatus.FAILED if run.failed else ApplyStatus.SUCCEEDED
    store.mark_tasks(run.apply_id, run.failed, "failed")
    store.mark_tasks(run.apply_id, run.skipped, "skipped")
    store.finish_apply(
        run.apply_id,
        status,
        ended_at=utc_now(),
        succeeded=len(run.commits),
        failed=len(run.failed),
        skipped=len(run.skipped),
        failures=run.failures,
    )
    return ApplyReport(
        apply_id=run.apply_id,
        status=status,
        commits=tuple(run.commits),
        failed=tuple(sorted(run.failed)),
        skipped=tuple(sorted(run.skipped)),
        failures=run.failures,
    )
