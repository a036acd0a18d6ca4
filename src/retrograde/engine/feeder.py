"""Handing journaled actions to an executor: at most its capacity at once, the next as one ends.

The committing thread journals a window of actions as ``started`` and gives
them to the :class:`Feeder`; worker threads take the next one as soon as a
handler finishes, so commits keep grouping while at most ``capacity`` handlers
run. Results go back on a queue the committing thread reads.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial

from retrograde.engine.faults import FaultHook
from retrograde.executors.base import Executor
from retrograde.handlers.process import ERROR_TAIL_CHARS
from retrograde.model.apply import ActionRequest, ActionResult
from retrograde.model.masking import SecretMask

Result = tuple[str, ActionResult]
"""A resource name and the result of its action."""


class Feeder:
    """Hands journaled actions to the executor, never more than its capacity at once.

    When a handler finishes (on a worker thread) the next waiting action is
    submitted at once. :meth:`stop` ends that: what still waits never starts.
    """

    def __init__(
        self,
        executor: Executor,
        results: queue.SimpleQueue[Result],
        *,
        faults: FaultHook | None = None,
        started: Callable[[str, str], None] | None = None,
    ) -> None:
        self._executor = executor
        self._faults = faults
        self._started = started
        self._results = results
        self._lock = threading.Lock()
        self._waiting: deque[tuple[str, ActionRequest]] = deque()
        self._running = 0
        self._stopped = False

    def add(self, items: list[tuple[str, ActionRequest]]) -> None:
        with self._lock:
            self._waiting.extend(items)
        self._fill()

    def stop(self) -> list[str]:
        """Submit nothing more; the names that were waiting (they never started)."""
        with self._lock:
            self._stopped = True
            dropped = [name for name, _ in self._waiting]
            self._waiting.clear()
        return dropped

    def _fill(self) -> None:
        while True:
            with self._lock:
                if self._stopped or not self._waiting:
                    return
                if self._running >= self._executor.capacity:
                    return
                name, request = self._waiting.popleft()
                self._running += 1
            if self._faults:
                self._faults.reached("after-start", name)
            if self._started:
                self._started(name, str(request["context"].get("action")))
            future = self._executor.submit(request)
            future.add_done_callback(partial(self._done, name, request))

    def _done(self, name: str, request: ActionRequest, future: Future[ActionResult]) -> None:
        """Done-callback (on a worker thread): hand the result over, start the next action."""
        self._results.put((name, _result_of(name, request, future)))
        with self._lock:
            self._running -= 1
        self._fill()


def _result_of(name: str, request: ActionRequest, future: Future[ActionResult]) -> ActionResult:
    """The executor contract says futures never raise; if one does, it is a failed action.

    Even a ``BaseException`` (a handler raising KeyboardInterrupt in its
    thread): if no result were delivered, the loop would wait for it forever.
    Its text is masked like any handler's (it may quote the request).
    """
    try:
        return future.result()
    except BaseException as exc:  # a failure value, on purpose
        error = SecretMask(request["secrets"]).head(repr(exc), ERROR_TAIL_CHARS)
        return {"resource": name, "ok": False, "exit_code": None, "error": error, "duration": 0}
