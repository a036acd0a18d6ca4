"""Running a plan: dispatch ready actions, group-commit finished ones, skip dependents of failures.

The calling thread is the only one that touches the store. Worker threads (or
remote workers) only run handlers; their results come back through a queue.
Every loop turn is one write transaction (group commit), visible in
:meth:`_Runner._record`: the commits of all results that arrived together,
each atomic with its state update and unstaging, plus the journal of the turn
(the actions about to be dispatched become ``started``, so their intent is
durable before they run; failures and skipped actions are recorded) and a
refresh of the store lock's lease (which fences an apply that lost its lock),
and what the handlers of those results wrote (``tx.output``, beside each
commit or failure, retried attempts included).
So a crash at any instant leaves every finished and recorded action with
exactly one commit and at most the in-flight actions ``started`` without one;
``resume`` re-runs those. The staged moves of a fresh apply (renames back,
which run no handler) are committed in the transaction that begins it.

At most ``executor.capacity`` handlers run at once, and a window of actions
(:mod:`retrograde.engine.window`: a few times that many, more while handlers
finish faster than turns are written) is journaled ``started`` ahead of their
results (a worker that frees up takes the next of them at once); the rest wait,
``pending`` in the journal. When the run is cancelled (:class:`CancelToken`: Ctrl-C,
SIGTERM, a server shutting down) or a turn cannot be written (a store error),
nothing more is dispatched and the executor takes back what it was given but has
not begun (``withdraw``: those go back to ``pending``); the actions in flight
finish, what finished is committed if the store allows, and the apply is left
``interrupted`` for ``resume``.

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
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypedDict

from retrograde.clock import utc_now
from retrograde.engine.cancel import CancelToken
from retrograde.engine.committing import commit_changes, commit_staged_moves
from retrograde.engine.faults import FaultHook
from retrograde.engine.feeder import Feeder, Result
from retrograde.engine.requests import action_request, check_types, retry_policy, revealed
from retrograde.engine.schedule import Schedule
from retrograde.engine.window import Window
from retrograde.errors import LockLostError, StoreError
from retrograde.executors.base import Executor
from retrograde.handlers.process import NO_OUTPUT
from retrograde.memory import gc_paused
from retrograde.model.apply import ActionRequest, ActionResult, ApplyStatus, HandlerOutput
from retrograde.model.change import Change
from retrograde.model.journal import LockGrant, TaskStatus
from retrograde.model.jsonvalue import JSONObject
from retrograde.model.plan import Plan
from retrograde.model.types import ResourceType, TypeKey
from retrograde.storage.base import Store
from retrograde.storage.repositories import CommitEntry

HEARTBEAT_FRACTION = 0.25
"""The lease is refreshed after this fraction of it has passed without a commit."""

_WAKE: Result = ("", {"resource": "", "ok": False, "exit_code": None, "error": "", "duration": 0.0})
"""Put on the result queue by a cancellation, so that a waiting loop wakes up."""


class Progress(Protocol):
    """Receives apply progress.

    ``begin`` and ``action_done`` (once an action's outcome is recorded) are
    called from the thread that runs the plan; ``action_started`` when the
    action is handed to the executor, which may be on a worker thread (right
    after another action finished there), and always before its ``action_done``.
    """

    def begin(self, total: int) -> None: ...

    def action_started(self, resource: str, action: str) -> None: ...

    def action_done(
        self, resource: str, action: str, ok: bool, failure: JSONObject | None = None
    ) -> None:
        """``failure`` is a failed action's ``{"exit_code", "error"}`` (masked, as recorded)."""
        ...


class ApplyReportJSON(TypedDict):
    """``apply --json`` (and the apply part of ``resume --json``)."""

    apply_id: int | None
    status: str
    commits: list[int]
    failed: list[str]
    skipped: list[str]
    failures: dict[str, JSONObject]
    attempts: dict[str, int]


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
    failures: Mapping[str, JSONObject] = field(default_factory=dict)
    attempts: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> ApplyReportJSON:
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
class Earlier:
    """What an interrupted apply had already done, for the report of its resumption."""

    done: int = 0
    failures: Mapping[str, JSONObject] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    attempts: Mapping[str, int] = field(default_factory=dict)


def _as_stored(change: Change) -> Change:
    return change


@dataclass(frozen=True, slots=True)
class Job:
    """What a run executes: a plan, the staged changes it acts on, their types.

    ``apply_id`` is None for a fresh apply (the run begins one) or the id of
    an interrupted apply to continue, with ``earlier`` saying what it had done.
    ``moves`` are the staged moves (the plan's ``moves``), committed in order in
    the transaction that begins a fresh apply, before any handler runs: the
    changes are named as after them.
    """

    plan: Plan
    changes: Mapping[str, Change]
    types: Mapping[TypeKey, ResourceType]
    moves: Sequence[Change] = ()
    apply_id: int | None = None
    earlier: Earlier = field(default_factory=Earlier)
    reveal: Callable[[Change], Change] = _as_stored
    """The change in plaintext, for its handler (secret values are sealed in the store);
    called for every change with a handler before anything is recorded."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How a run behaves beyond its job: who and why, where actions run, lock, cancellation."""

    principal: str
    message: str
    executor: Executor
    progress: Progress | None = None
    lock: LockGrant | None = None
    faults: FaultHook | None = None
    cancel: CancelToken = field(default_factory=CancelToken)


def run(store: Store, job: Job, options: RunOptions) -> ApplyReport:
    """Run ``job``: one commit per successful action; failures skip their dependents.

    A fresh apply is begun, an interrupted one goes back to ``running``, in
    the transaction that journals the first wave as started. Refused before
    anything is recorded when a change's type is unknown. With ``options.lock``
    (the store lock held by the caller), every transaction refreshes its lease
    and the run stops with :class:`LockLostError` if the lock was taken. A
    cancelled run returns an ``interrupted`` report; a store error is raised
    after the in-flight actions finished and the apply was left ``interrupted``.
    """
    check_types(job.changes.values(), job.types)
    return _Runner(store, job, options).run()


class _Runner:
    """The loop of one run; see the module docstring."""

    def __init__(self, store: Store, job: Job, options: RunOptions) -> None:
        self.store = store
        self.job = job
        self.options = options
        self.schedule = Schedule(job.plan)
        self.actions = {a.resource: a.action.value for a in job.plan.actions}
        self.results: queue.SimpleQueue[Result] = queue.SimpleQueue()
        self.requests: dict[str, ActionRequest] = {}
        self.attempts: dict[str, int] = dict(job.earlier.attempts)
        self.ready: deque[str] = deque()
        self.retries: list[tuple[float, str]] = []
        self.feeder = Feeder(
            options.executor,
            self.results,
            faults=options.faults,
            started=options.progress.action_started if options.progress else None,
        )
        self.in_flight = 0
        self.window = Window(options.executor.capacity)
        self.unstarted: list[str] = []
        self.apply_id = job.apply_id or 0
        self.commits: list[int] = []
        self.failures: dict[str, JSONObject] = {}
        self.skipped: list[str] = []
        self.refreshed = time.monotonic()
        self.store_error: StoreError | None = None
        with gc_paused():  # tens of thousands of changes and requests, no reference cycles
            self.revealed = revealed(job.changes, job.types, job.reveal)

    def run(self) -> ApplyReport:
        if self.options.progress:
            self.options.progress.begin(len(self.actions))
        self.options.cancel.on_cancel(partial(self.results.put, _WAKE))
        first = self._begin()
        try:
            self._dispatch(first)
            while self.in_flight or (self.retries and not self._stopping):
                self._turn(self._wait())
        except LockLostError:
            raise
        except BaseException:
            self._mark(ApplyStatus.INTERRUPTED)
            raise
        if self.store_error is not None:
            self._mark(ApplyStatus.INTERRUPTED)
            raise self.store_error
        if self.options.cancel.cancelled:
            self._mark(ApplyStatus.INTERRUPTED)
            return self._report(ApplyStatus.INTERRUPTED)
        return self._finish()

    @property
    def _stopping(self) -> bool:
        return self.options.cancel.cancelled or self.store_error is not None

    def _begin(self) -> list[str]:
        """Record the apply (or resume it) with its first wave journaled, after the staged moves
        of a fresh apply are committed; return that wave."""
        earlier = self.job.earlier
        blocked = [s for name in earlier.failures if name in self.actions for s in self._fail(name)]
        self.skipped.extend(blocked)
        self.ready.extend(n for n in self.schedule.initial() if n not in earlier.failures)
        first = self._take_ready()
        o = self.options
        moved: list[int] = []
        with self.store.write() as tx:
            if self.job.apply_id is None:
                record = tx.applies.begin(o.principal, o.message, utc_now(), self.job.plan)
                self.apply_id = record.id
                written = commit_staged_moves(tx, record.id, o.principal, o.message, self.job.moves)
                moved = [commit.rev for commit in written]
            else:
                tx.applies.set_status(self.apply_id, ApplyStatus.RUNNING)
                tx.applies.mark(self.apply_id, blocked, TaskStatus.SKIPPED)
            tx.applies.start(self.apply_id, self._next_attempts(first))
            if o.lock is not None:
                tx.lock.refresh(o.lock, apply_id=self.apply_id)
        self.commits.extend(moved)
        self.refreshed = time.monotonic()
        types = self.job.types
        with gc_paused():
            self.requests = {
                name: action_request(change, types, self.apply_id)
                for name, change in self.revealed.items()
            }
        return first

    def _fail(self, name: str) -> list[str]:
        return self.schedule.failed(name)

    def _take_ready(self) -> list[str]:
        """The ready actions that fit in the executor's capacity, in the order they became ready."""
        if self._stopping:
            return []
        room = self.window.room(self.in_flight)
        taken: list[str] = []
        while self.ready and len(taken) < room:
            taken.append(self.ready.popleft())
        return taken

    def _next_attempts(self, names: list[str]) -> dict[str, int]:
        """Count one more attempt for each of ``names``; return their attempt numbers."""
        for name in names:
            self.attempts[name] = self.attempts.get(name, 0) + 1
        return {name: self.attempts[name] for name in names}

    def _dispatch(self, names: list[str]) -> None:
        """Hand ``names`` (journaled ``started`` already) to the feeder of the executor."""
        self.in_flight += len(names)
        self.feeder.add([(name, self.requests[name]) for name in names])
        if self._stopping:
            dropped = self.feeder.stop()
            self.in_flight -= len(dropped)
            self.unstarted.extend(dropped)
            self.options.executor.withdraw()  # what it was given but has not begun comes back

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
                return [result for result in batch if result is not _WAKE]

    def _timeout(self) -> float | None:
        """How long to wait for a result before the next retry or lease refresh is due."""
        deadlines = [due for due, _ in self.retries[:1]]
        if self.options.lock:
            deadlines.append(self.refreshed + self.options.lock.lease_seconds * HEARTBEAT_FRACTION)
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _turn(self, batch: list[Result]) -> None:
        """One loop turn: classify results, journal and commit in one transaction, dispatch."""
        self.in_flight -= len(batch)
        self.window.turned(len(batch))
        self.unstarted.extend(name for name, result in batch if result.get("withdrawn"))
        batch = [(name, result) for name, result in batch if not result.get("withdrawn")]
        faults = self.options.faults
        done: list[str] = []
        failed: list[Result] = []
        for name, result in batch:
            if faults:
                faults.reached("after-handler", name)
            if result["ok"]:
                done.append(name)
            elif self.options.cancel.killed or (self._retries_left(name) and self._stopping):
                pass  # cut short or due again: stays started, resume runs it again
            elif self._retries_left(name):
                delay = retry_policy(self.job.changes[name], self.job.types)[1]
                heapq.heappush(self.retries, (time.monotonic() + delay, name))
            else:
                failed.append((name, result))
        self.ready.extend(self.schedule.succeeded(done))
        self.ready.extendleft(reversed(self._due_retries()))
        skipped = [s for name, _ in failed for s in self._fail(name)]
        ready = self._take_ready()
        if not self._record(batch, dict(failed), skipped, ready, done=done):
            self.ready.extendleft(reversed(ready))
            ready = []
        self._report_progress(done, failed)
        self._dispatch(ready)

    def _retries_left(self, name: str) -> bool:
        """Whether the type of a failed action allows it another attempt."""
        retries = retry_policy(self.job.changes[name], self.job.types)[0]
        return self.attempts.get(name, 1) <= retries

    def _due_retries(self) -> list[str]:
        now = time.monotonic()
        due: list[str] = []
        while self.retries and self.retries[0][0] <= now:
            due.append(heapq.heappop(self.retries)[1])
        return due

    def _record(
        self,
        batch: list[Result],
        failed: Mapping[str, ActionResult],
        skipped: list[str],
        ready: list[str],
        *,
        done: list[str],
    ) -> bool:
        """The turn's one transaction (or a bare lease refresh when due); False if not written.

        A store error stops dispatch (the run ends once what is in flight is
        back) and is kept for the caller; what could not be recorded stays
        uncommitted, to be re-run by ``resume``.
        """
        failures = {name: _failure(result) for name, result in failed.items()}
        if not (batch or skipped or ready):
            self._refresh_if_due()
            return True
        started = {name: self.attempts.get(name, 0) + 1 for name in ready}
        entries = [CommitEntry(self.job.changes[name], utc_now()) for name in done]
        o, apply_id = self.options, self.apply_id
        try:
            with gc_paused(), self.store.write() as tx:  # a turn's commits and rows hold no cycles
                written = commit_changes(tx, apply_id, o.principal, o.message, entries)
                tx.output.add(self._outputs(batch, {c.resource: c.rev for c in written}))
                tx.applies.mark(apply_id, done, TaskStatus.DONE)
                tx.applies.start(apply_id, started)
                tx.applies.fail(apply_id, failures)
                tx.applies.mark(apply_id, skipped, TaskStatus.SKIPPED)
                if o.lock is not None:
                    tx.lock.refresh(o.lock, apply_id=apply_id)
        except StoreError as error:
            self.store_error = self.store_error or error
            return False
        self.attempts.update(started)
        self.commits.extend(c.rev for c in written)
        self.failures.update(failures)
        self.skipped.extend(skipped)
        self.refreshed = time.monotonic()
        return True

    def _outputs(self, batch: list[Result], revs: Mapping[str, int]) -> list[HandlerOutput]:
        """What each result's handler wrote, for its attempt (and its commit, if it made one)."""
        outputs: list[HandlerOutput] = []
        for name, result in batch:
            written = result.get("output") or NO_OUTPUT
            outputs.append(
                HandlerOutput(
                    apply_id=self.apply_id,
                    resource=name,
                    attempt=self.attempts.get(name, 1),
                    ok=result["ok"],
                    rev=revs.get(name) if result["ok"] else None,
                    stdout=written["stdout"],
                    stderr=written["stderr"],
                    truncated=written["truncated"],
                )
            )
        return outputs

    def _refresh_if_due(self) -> None:
        lock = self.options.lock
        if lock is None or self._timeout() != 0.0:
            return
        with self.store.write() as tx:
            tx.lock.refresh(lock, apply_id=self.apply_id)
        self.refreshed = time.monotonic()

    def _report_progress(self, done: list[str], failed: list[Result]) -> None:
        faults = self.options.faults
        if faults:
            for name in done:
                faults.reached("after-commit", name)
        progress = self.options.progress
        if progress:
            for name in done:
                progress.action_done(name, self.actions[name], True)
            for name, result in failed:
                progress.action_done(name, self.actions[name], False, _failure(result))

    def _mark(self, status: ApplyStatus) -> None:
        """Best effort after a stop (cancellation, store error): the apply is resumable.

        Actions journaled ``started`` whose handler never began go back to ``pending``.
        """
        unstarted = [*self.unstarted, *self.feeder.stop()]
        with contextlib.suppress(Exception):
            self.options.executor.withdraw()  # a second Ctrl-C: nothing queued starts either
        if self.apply_id:
            with contextlib.suppress(Exception), self.store.write() as tx:
                tx.applies.mark(self.apply_id, unstarted, TaskStatus.PENDING)
                tx.applies.set_status(self.apply_id, status)

    def _finish(self) -> ApplyReport:
        status = ApplyStatus.FAILED if self._all_failures() else ApplyStatus.SUCCEEDED
        with self.store.write() as tx:
            tx.applies.finish(self.apply_id, status, ended_at=utc_now())
        return self._report(status)

    def _all_failures(self) -> dict[str, JSONObject]:
        return {**self.job.earlier.failures, **self.failures}

    def _report(self, status: ApplyStatus) -> ApplyReport:
        failures = self._all_failures()
        return ApplyReport(
            apply_id=self.apply_id,
            status=status,
            commits=tuple(self.commits),
            failed=tuple(sorted(failures)),
            skipped=tuple(sorted({*self.job.earlier.skipped, *self.skipped})),
            failures=failures,
            attempts={n: a for n, a in sorted(self.attempts.items()) if a > 1},
        )


def _failure(result: ActionResult) -> JSONObject:
    return {"exit_code": result["exit_code"], "error": result["error"]}
