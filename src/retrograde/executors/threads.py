"""The default executor: actions run on a bounded pool of in-process threads.

Handlers spend their time waiting on subprocesses or I/O, so threads give real
parallelism up to ``--jobs`` without shipping requests anywhere.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from retrograde.errors import HandlerError
from retrograde.handlers.registry import run_action
from retrograde.model.apply import ActionRequest, ActionResult


class ThreadExecutor:
    """Runs up to ``jobs`` actions at once; futures never hold an exception.

    ``submit`` is thread safe. ``shutdown`` waits for submitted actions to finish;
    submitting after it raises ``RuntimeError`` (a bug in the caller).
    """

    def __init__(self, jobs: int) -> None:
        if jobs < 1:
            raise HandlerError(f"jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="retrograde-action")

    @property
    def capacity(self) -> int:
        return self.jobs

    def submit(self, request: ActionRequest) -> Future[ActionResult]:
        return self._pool.submit(run_action, request)

    def withdraw(self) -> None:
        """Nothing to take back: the pool has ``capacity`` threads, so whatever the runner
        submitted (never more than that) has begun."""

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> ThreadExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()
