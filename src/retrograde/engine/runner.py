"""Running a plan: dispatch ready actions, group-commit finished ones, skip dependents of failures.

The calling thread is the only one that touches the store. Worker threads (or
remote workers) only run handlers; their results come back through a queue.
Every loop turn is one transaction (group commit): the commits of all results
that arrived together, each atomic with its state update and unstaging, plus
the journal of the turn: the actions about to be dispatched become
``started`` (their intent is durable before they run), failures and skipped
actions are recorded, and the store lock's lease is refreshed (which fences
an apply that lost its lock). So a crash at any instant leaves every finished
and recorded action with exactly one commit and at most the in-flight
actions ``started`` without one; ``resume`` re-runs those.

A failed action whose type allows ``retries`` is dispatched again after
``retry_delay`` seconds without blocking the loop; only its final outcome
counts, and its attempts are journaled. While handlers run and nothing
finishes, the loop wakes up to refresh the lease.
"""

from __future__ import annotations

import contextlib
import heapq
import queue
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from retrograde.engine.clock import utc_now
from retrograde.engine.faults import FaultHook, configured_fault
from retrograde.engine.requests import TypeKey, action_request, retry_policy
from retrograde.engine.schedule import Schedule
from retrograde.errors import LockLostError
from retrograde.executors.base import Executor
from retrograde.model.apply import ActionResult, ApplyStatus
from retrograde.model.change import Change
from retrograde.model.jsonvalue import JSON
from retrograde.model.plan import Plan
from retrograde.model.types import ResourceType
from retrograde.storage.base import CommitEntry, JournalUpdate, LockGrant, Store

HEARTBEAT_FRACTION = 0.25
"""The lease is refreshed after this fraction of it has passed without a commit."""

Result = tuple[str, ActionResult]


class Progress(Protocol):
    """Receives apply progress; called from the thread that runs the plan."""

    def begin(self, total: int) -> None: ...

    def action_done(self, resource: str, action: str, ok: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """What an apply came to (``apply --json``).

    ``attempts`` names the actions that took more than one attempt (retries,
    or a re-run after a crash) with their attempt count.
    """

    apply_id: int | None
    status: ApplyStatus
    commits: tuple[int, ...] = ()
    failed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    failures: Mapping[str, Mapping[str, JSON]] = field(default_factory=dict)
    attempts: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "apply_id": self.apply_id,
            "status": self.status.value,
            "commits": list(self.commits),
            "failed": list(self.failed),
            "skipped": list(self.skipped),
            "failures": {k: dict(v) for k, v in self.failures.items()},
            "attempts": dict(self.attempts),
        }


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How a run behaves beyond the plan: who and why, progress, lock, fault hook."""

    principal: str
    message: str
    progress: Progress | None = None
    lock: LockGrant | None = None
    faults: FaultHook | None = None


@dataclass(frozen=True, slots=True)
class Earlier:
    """What an interrupted apply had already done, for the report of its resumption."""

    done: int = 0
    failures: Mapping[str, Mapping[str, JSON]] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    attempts: Mapping[str, int] = field(default_factory=dict)


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
    lock: LockGrant | None = None,
    faults: FaultHook | None = None,
) -> ApplyReport:
    """Apply ``plan``: one commit per successful action; failures skip their dependents.

    With ``lock`` (the store lock held by the caller), every transaction
    refreshes its lease and the run stops with :class:`LockLostError` if the
    lock was taken. ``faults`` defaults to ``RETROGRADE_FAULT`` (crash tests).
    """
    for name in changes:  # refuse before anything is recorded if a type is missing
        action_request(changes[name], types, 0)
    options = RunOptions(principal, message, progress, lock, faults or configured_fault())
    runner = _Runner(store, plan, changes, types, executor, options)
    first = runner.schedule.initial()
    started = runner.next_attempts(first)
    record = store.begin_apply(principal, message, plan, utc_now(), started=started, grant=lock)
    return runner.run(record.id, first, Earlier())


def continue_plan(
    store: Store,
    apply_id: int,
    plan: Plan,
    changes: Mapping[str, Change],
    types: Mapping[TypeKey, ResourceType],
    executor: Executor,
    options: RunOptions,
    earlier: Earlier,
) -> ApplyReport:
    """Run what is left of the interrupted apply ``apply_id`` (``plan``) under the same id.

    The apply goes back to ``running`` in the transaction that journals the
    first wave as started. ``plan`` may hold actions that failed before the
    interruption (``earlier.failures``): they do not run again, and what
    waits for them is skipped, as in any apply. The report covers the whole
    apply: ``earlier`` holds what was done before; ``commits`` lists the
    commits of this run.
    """
    for name in changes:
        action_request(changes[name], types, apply_id)
    runner = _Runner(store, plan, changes, types, executor, options, earlier.attempts)
    failed = [name for name in earlier.failures if name in runner.actions]
    blocked = [skipped for name in failed for skipped in runner.schedule.failed(name)]
    first = [n for n in runner.schedule.initial() if n not in earlier.failures]
    started = runner.next_attempts(first)
    store.resume_apply(apply_id, JournalUpdate(started, skipped=blocked, lock=options.lock))
    runner.skipped.extend(blocked)
    return runner.run(apply_id, first, earlier)


class _Runner:
    """The loop of one run; see the module docstring."""

    def __init__(
        self,
        store: Store,
        plan: Plan,
        changes: Mapping[str, Change],
        types: Mapping[TypeKey, ResourceType],
        executor: Executor,
        options: RunOptions,
        attempts: Mapping[str, int] | None = None,
    ) -> None:
        self.store = store
        self.changes = changes
        self.types = types
        self.executor = executor
        self.options = options
        self.schedule = Schedule(plan)
        self.actions = {a.resource: a.action.value for a in plan.actions}
        self.results: queue.SimpleQueue[Result] = queue.SimpleQueue()
        self.attempts: dict[str, int] = dict(attempts or {})
        self.retries: list[tuple[float, str]] = []
        self.in_flight = 0
        self.apply_id = 0
        self.commits: list[int] = []
        self.failures: dict[str, dict[str, JSON]] = {}
        self.skipped: list[str] = []
        self.refreshed = time.monotonic()

    def next_attempts(self, names: list[str]) -> dict[str, int]:
        """Count one more attempt for each of ``names``; return their attempt numbers."""
        for name in names:
            self.attempts[name] = self.attempts.get(name, 0) + 1
        return {name: self.attempts[name] for name in names}

    def run(self, apply_id: int, first: list[str], earlier: Earlier) -> ApplyReport:
        self.apply_id = apply_id
        if self.options.progress:
            self.options.progress.begin(len(self.actions))
        try:
            self._dispatch(first)
            while self.in_flight or self.retries:
                self._turn(self._wait())
        except LockLostError:
            raise
        except BaseException:
            self._mark_interrupted()
            raise
        return self._finish(earlier)

    def _dispatch(self, names: list[str]) -> None:
        """Hand ``names`` (journaled ``started`` already) to the executor."""
        faults = self.options.faults
        for name in names:
            if faults:
                faults.reached("after-start", name)
            request = action_request(self.changes[name], self.types, self.apply_id)
            future = self.executor.submit(request)
            future.add_done_callback(partial(_deliver, self.results, name))
        self.in_flight += len(names)

    def _wait(self) -> list[Result]:
        """The results that arrived together; empty when a retry or a lease refresh is due."""
        try:
            batch = [self.results.get(timeout=self._timeout())]
        except queue.Empty:
            return []
        while True:
            try:
                batch.append(self.results.get_nowait())
            except queue.Empty:
                return batch

    def _timeout(self) -> float | None:
        """How long to wait for a result before the next retry or lease refresh is due."""
        deadlines = [due for due, _ in self.retries[:1]]
        if self.options.lock:
            deadlines.append(self.refreshed + self.options.lock.lease_seconds * HEARTBEAT_FRACTION)
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _turn(self, batch: list[Result]) -> None:
        """One loop turn: classify results, journal and commit in one transaction, dispatch."""
        self.in_flight -= len(batch)
        faults = self.options.faults
        done: list[str] = []
        failed: list[Result] = []
        for name, result in batch:
            if faults:
                faults.reached("after-handler", name)
            if result["ok"]:
                done.append(name)
            elif not self._retry_later(name):
                failed.append((name, result))
        ready = self.schedule.succeeded(done) + self._due_retries()
        skipped = [s for name, _ in failed for s in self.schedule.failed(name)]
        self._record(done, failed, skipped, self.next_attempts(ready))
        self._report(done, failed)
        self._dispatch(ready)

    def _retry_later(self, name: str) -> bool:
        """Queue another attempt of a failed action if its type allows; False if none is left."""
        retries, delay = retry_policy(self.changes[name], self.types)
        if self.attempts.get(name, 1) > retries:
            return False
        heapq.heappush(self.retries, (time.monotonic() + delay, name))
        return True

    def _due_retries(self) -> list[str]:
        now = time.monotonic()
        due: list[str] = []
        while self.retries and self.retries[0][0] <= now:
            due.append(heapq.heappop(self.retries)[1])
        return due

    def _record(
        self, done: list[str], failed: list[Result], skipped: list[str], started: dict[str, int]
    ) -> None:
        """The turn's one transaction (or a bare lease refresh when due and nothing happened)."""
        failures = {name: _failure(result) for name, result in failed}
        journal = JournalUpdate(
            started=started, failed=failures, skipped=skipped, lock=self.options.lock
        )
        if done or failures or skipped or started:
            entries = [CommitEntry(self.changes[name], utc_now()) for name in done]
            o = self.options
            written = self.store.record_commits(
                self.apply_id, o.principal, o.message, entries, journal
            )
            self.commits.extend(c.rev for c in written)
            self.refreshed = time.monotonic()
        elif self.options.lock and self._timeout() == 0.0:
            self.store.refresh_lock(self.options.lock, apply_id=self.apply_id)
            self.refreshed = time.monotonic()
        self.failures.update(failures)
        self.skipped.extend(skipped)

    def _report(self, done: list[str], failed: list[Result]) -> None:
        faults = self.options.faults
        if faults:
            for name in done:
                faults.reached("after-commit", name)
        progress = self.options.progress
        if progress:
            for name in done:
                progress.action_done(name, self.actions[name], True)
            for name, _ in failed:
                progress.action_done(name, self.actions[name], False)

    def _mark_interrupted(self) -> None:
        """Best effort after an unexpected stop (Ctrl-C, store error): the apply is resumable."""
        if self.apply_id:
            with contextlib.suppress(Exception):
                self.store.set_apply_status(self.apply_id, ApplyStatus.INTERRUPTED)

    def _finish(self, earlier: Earlier) -> ApplyReport:
        failures = {**earlier.failures, **self.failures}
        skipped = sorted({*earlier.skipped, *self.skipped})
        status = ApplyStatus.FAILED if failures else ApplyStatus.SUCCEEDED
        self.store.finish_apply(
            self.apply_id,
            status,
            ended_at=utc_now(),
            succeeded=earlier.done + len(self.commits),
            failed=len(failures),
            skipped=len(skipped),
            failures=failures,
        )
        return ApplyReport(
            apply_id=self.apply_id,
            status=status,
            commits=tuple(self.commits),
            failed=tuple(sorted(failures)),
            skipped=tuple(skipped),
            failures=failures,
            attempts={n: a for n, a in sorted(self.attempts.items()) if a > 1},
        )


def _failure(result: ActionResult) -> dict[str, JSON]:
    return {"exit_code": result["exit_code"], "error": result["error"]}


def _deliver(results: queue.SimpleQueue[Result], name: str, future: Future[ActionResult]) -> None:
    """Done-callback (runs on a worker thread): hand the result to the committing thread."""
    results.put((name, _result_of(name, future)))


def _result_of(name: str, future: Future[ActionResult]) -> ActionResult:
    """The executor contract says futures never raise; if one does, it is a failed action.

    Even a ``BaseException`` (a handler raising KeyboardInterrupt in its
    thread): if no result were delivered, the loop would wait for it forever.
    """
    try:
        return future.result()
    except BaseException as exc:  # a failure value, on purpose
        return {"resource": name, "ok": False, "exit_code": None, "error": repr(exc), "duration": 0}
