"""Background applies: ``POST /api/apply`` and ``/api/resume`` answer at once, the run goes on.

A job runs the same ``commands`` apply (or resume) the CLI runs, in a thread
of its own, with a :class:`JobProgress` recording events. The request waits
only until the run has its apply id (its first action was handed out, so the
apply is recorded and holds the store lock), or until it was refused (locked
store, an interrupted apply, a plan digest that no longer matches), which the
request raises as the CLI would. Events are kept in memory for the server's
lifetime and streamed as server-sent events, from the start or from a
``Last-Event-ID``.

Shutdown (SIGTERM, Ctrl-C) cancels every job's :class:`CancelToken`: no more
actions start, the running ones finish and are committed, and the apply is
left ``interrupted`` for ``resume``, as after a signal to the CLI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from retrograde.commands.context import Context
from retrograde.commands.error_views import domain_fields
from retrograde.engine.cancel import CancelToken
from retrograde.engine.runner import Progress
from retrograde.errors import RetrogradeError, StateError
from retrograde.model.jsonvalue import JSONObject

Work = Callable[[Progress, CancelToken], tuple[int | None, dict[str, Any]]]
"""Runs the verb with this progress and token; returns the apply id and the report's JSON."""


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event: its id (1, 2, ...), name and JSON data."""

    id: int
    name: str
    data: dict[str, Any]


class Job:
    """One background run: its events, its apply id once known, its end."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.cancel = CancelToken()
        self.apply_id: int | None = None
        self.error: BaseException | None = None
        self.finished = False
        self._events: list[Event] = []
        self._changed = threading.Condition()
        self._known = threading.Event()
        self.thread: threading.Thread | None = None

    def add(self, name: str, data: dict[str, Any]) -> None:
        with self._changed:
            self._events.append(Event(len(self._events) + 1, name, data))
            self._changed.notify_all()

    def since(self, last: int) -> tuple[list[Event], bool]:
        """The events after id ``last``, and whether the job has ended."""
        with self._changed:
            return self._events[last:], self.finished

    def known(self, apply_id: int | None) -> None:
        if self.apply_id is None:
            self.apply_id = apply_id
        self._known.set()

    def wait_known(self) -> None:
        self._known.wait()

    def end(self) -> None:
        with self._changed:
            self.finished = True
            self._changed.notify_all()
        self._known.set()


class JobProgress:
    """:class:`~retrograde.engine.runner.Progress` that records events and finds the apply id."""

    def __init__(self, job: Job, ctx: Context) -> None:
        self.job = job
        self.ctx = ctx
        self._lock = threading.Lock()

    def begin(self, total: int) -> None:
        self.job.add("begin", {"total": total})

    def action_started(self, resource: str, action: str) -> None:
        with self._lock:
            if self.job.apply_id is None:
                self.job.known(_running_apply(self.ctx))
            self.job.add(
                "action_started",
                {"apply_id": self.job.apply_id, "resource": resource, "action": action},
            )

    def action_done(
        self, resource: str, action: str, ok: bool, failure: JSONObject | None = None
    ) -> None:
        data: dict[str, Any] = {"apply_id": self.job.apply_id, "resource": resource}
        data["action"] = action
        if ok:
            self.job.add("action_finished", data)
        else:
            self.job.add("action_failed", {**data, "failure": dict(failure or {})})


def _running_apply(ctx: Context) -> int | None:
    """The apply holding the store lock: the one this job began (it holds the lock)."""
    with ctx.store.read() as tx:
        holder = tx.lock.holder()
        if holder is not None and holder.apply_id is not None:
            return holder.apply_id
        newest = tx.applies.page(limit=1)
    return newest[0].id if newest else None


KEPT_JOBS = 50
"""Finished jobs whose events stay in memory; an older apply's events stream its record."""


class Jobs:
    """The jobs this server began, by apply id (the last :data:`KEPT_JOBS` finished ones and
    every running one); shutdown cancels the running ones."""

    def __init__(self) -> None:
        self._by_id: dict[int, Job] = {}
        self._running: list[Job] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self, kind: str, ctx: Context, work: Work) -> Job:
        """Begin ``work`` in a thread; return once it has an apply id, or raise its refusal."""
        job = Job(kind)
        with self._lock:
            if self._closed:
                raise StateError("the server is shutting down: no new applies")
            self._running.append(job)
        job.thread = threading.Thread(
            target=self._run, args=(job, ctx, work), name=f"retrograde-{kind}", daemon=True
        )
        job.thread.start()
        job.wait_known()
        if job.apply_id is None:
            if job.error is not None:
                raise job.error
            raise StateError(f"nothing to {kind}: nothing is staged")
        with self._lock:
            self._by_id[job.apply_id] = job
        return job

    def get(self, apply_id: int) -> Job | None:
        with self._lock:
            return self._by_id.get(apply_id)

    def _run(self, job: Job, ctx: Context, work: Work) -> None:
        try:
            apply_id, report = work(JobProgress(job, ctx), job.cancel)
            job.known(apply_id)
            with self._lock:
                if job.apply_id is not None:
                    self._by_id.setdefault(job.apply_id, job)
            job.add("report", report)
        except RetrogradeError as error:
            job.error = error
            if job.apply_id is not None:
                job.add("error", {"error": domain_fields(error)})
        except BaseException as error:  # a defect: the stream still ends
            job.error = error
            if job.apply_id is not None:
                job.add("error", {"error": {"kind": "internal_error", "message": "apply failed"}})
        finally:
            job.end()
            with self._lock:
                if job in self._running:
                    self._running.remove(job)
                self._forget_old()

    def _forget_old(self) -> None:
        finished = [key for key, job in self._by_id.items() if job.finished]
        for key in finished[: max(0, len(finished) - KEPT_JOBS)]:
            del self._by_id[key]

    def cancel_all(self, reason: str = "server shutdown") -> None:
        """Refuse new jobs; ask every running one to stop dispatching."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        for job in running:
            job.cancel.cancel(reason)

    def join(self, timeout: float) -> None:
        """Wait (up to ``timeout`` seconds each) for the running jobs to end."""
        with self._lock:
            running = list(self._running)
        for job in running:
            if job.thread is not None:
                job.thread.join(timeout)
