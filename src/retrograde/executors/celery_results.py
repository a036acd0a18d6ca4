"""How the Celery executor's coordinator learns results: one thread, one Redis subscription.

:class:`Results` keeps the submissions the coordinator waits for
(:class:`Pending`) and resolves their futures. Celery publishes each stored
result on its key's channel; the thread drains every announcement that has
arrived, decodes them, then deletes the results read and releases their fences
in one round trip. A sweep every :data:`SWEEP_SECONDS` also reads the keys of
everything pending (a missed announcement costs at most that long) and checks
deadlines. The futures of a batch are resolved inside ``batching()`` (the
executor sends the actions their callbacks submit together, when it ends).
Results of submissions nobody waits for (an earlier coordinator's,
superseded) are ignored: they expire with the backend's ``result_expires``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, cast

from celery import Celery
from celery.backends.redis import RedisBackend
from redis import Redis
from redis.exceptions import RedisError

from retrograde.executors.celery_app import RELEASE, WITHDRAW, WITHDRAW_ALL
from retrograde.handlers.process import failure
from retrograde.model.apply import ActionResult

SWEEP_SECONDS = 0.2
"""How often deadlines are checked and results read directly, in case a notification was missed."""

DRAIN_LIMIT = 1000
"""Most announcements handled in one go (the rest wait for the next pass, a moment later)."""


@dataclass(slots=True)
class Pending:
    """One submitted action the coordinator waits for."""

    future: Future[ActionResult]
    resource: str
    queue: str
    fence: str
    token: str
    pickup_by: float
    give_up_at: float
    pickup_seconds: float
    claimed: bool = False


Done = list[tuple[Pending, ActionResult]]


class CoordinatorBackend(RedisBackend):
    """Celery's Redis result backend, minus its per-task subscription when a task is sent.

    Celery's own backend subscribes to each task's channel as it is sent (a
    round trip per action, and announcements nobody reads); the coordinator
    has one pattern subscription for all of them (:class:`Results`) instead.
    """

    def on_task_call(self, producer: Any, task_id: str) -> None:
        return None


COORDINATOR_BACKEND = f"{__name__}.{CoordinatorBackend.__name__}"
"""How a Celery app names :class:`CoordinatorBackend` before a ``+`` and the Redis URL."""


def withdrawn(resource: str, queue: str) -> ActionResult:
    """The result of an action taken back before any worker started it: it never ran."""
    result = failure(
        resource, f"withdrawn from queue {queue!r} before a worker started it (interrupted)"
    )
    result["withdrawn"] = True
    return result


class Results:
    """Waits for results on one thread and resolves the futures of :class:`Pending` actions.

    Futures are resolved outside the lock: the runner's callback submits the
    next action from there.
    """

    def __init__(
        self,
        app: Celery,
        client: Redis,
        *,
        batching: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        self._backend: Any = cast(Any, app.backend)
        self._client: Any = cast(Any, client)
        self._withdraw = self._client.register_script(WITHDRAW)
        self._withdraw_all = self._client.register_script(WITHDRAW_ALL)
        self._release = self._client.register_script(RELEASE)
        self._batching = batching
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Condition()
        self._closing = False
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        pattern = self._backend.get_key_for_task("*")
        self._prefix = (pattern.decode() if isinstance(pattern, bytes) else pattern)[:-1]
        self._pubsub.psubscribe(pattern)
        self._thread = threading.Thread(target=self._loop, name="retrograde-celery", daemon=True)
        self._thread.start()

    def expect(self, pending: Pending) -> None:
        with self._lock:
            self._pending[pending.token] = pending

    def abandon(self, pending: Pending, reason: str) -> None:
        """Stop waiting for ``pending`` (it could not be sent): its future fails with ``reason``."""
        with self._lock:
            if self._pending.pop(pending.token, None) is None and pending.future.done():
                return  # its result came first
            self._lock.notify_all()
        pending.future.set_result(failure(pending.resource, reason))

    def withdraw_unclaimed(self) -> None:
        """Take back every submission no worker has claimed; their futures say ``withdrawn``.

        One round trip for all of them. A submission a worker claimed first is
        left to finish (its result comes back as usual).
        """
        with self._lock:
            waiting = [p for p in self._pending.values() if not p.claimed]
            if not waiting:
                return
            taken = self._withdraw_all(
                keys=[p.fence for p in waiting], args=[f"queued:{p.token}" for p in waiting]
            )
            done: Done = []
            for index, pending in enumerate(waiting, start=1):
                if index in taken:
                    del self._pending[pending.token]
                    done.append((pending, withdrawn(pending.resource, pending.queue)))
                else:
                    pending.claimed = True
            self._lock.notify_all()
        for pending, result in done:
            pending.future.set_result(result)

    def close(self) -> None:
        """Wait until nothing is pending, then stop the thread and release the connections."""
        with self._lock:
            while self._pending and self._thread.is_alive():
                self._lock.wait(SWEEP_SECONDS)
            self._closing = True
        self._thread.join()
        self._pubsub.close()

    def _loop(self) -> None:
        swept = 0.0
        while not self._closing:
            try:
                self._arrived(self._announced())
                if time.monotonic() - swept >= SWEEP_SECONDS:
                    swept = time.monotonic()
                    self._sweep()
            except (RedisError, OSError):
                time.sleep(SWEEP_SECONDS)  # Redis went away: the sweep retries until deadlines

    def _announced(self) -> dict[str, Any]:
        """The results announced since the last call (waits up to a sweep for the first)."""
        payloads: dict[str, Any] = {}
        message = self._pubsub.get_message(timeout=SWEEP_SECONDS)
        while message is not None and len(payloads) < DRAIN_LIMIT:
            payloads[self._task_id(message["channel"])] = message["data"]
            message = self._pubsub.get_message(timeout=0)
        if message is not None:
            payloads[self._task_id(message["channel"])] = message["data"]
        return payloads

    def _task_id(self, channel: bytes | str) -> str:
        """The task id a result channel (the result's key) belongs to."""
        name = channel.decode() if isinstance(channel, bytes) else channel
        return name.removeprefix(self._prefix)

    def _sweep(self) -> None:
        with self._lock:
            tokens = list(self._pending)
        if tokens:
            keys = [self._backend.get_key_for_task(token) for token in tokens]
            self._arrived(dict(zip(tokens, self._client.mget(keys), strict=True)))
        self._check_deadlines()

    def _arrived(self, payloads: dict[str, Any]) -> None:
        """Resolve the pending actions whose results are among ``payloads`` (by task id)."""
        if not payloads:
            return
        done: Done = []
        with self._lock:
            for token, payload in payloads.items():
                pending = self._pending.get(token)
                if pending is None or payload is None:
                    continue
                result = _result(pending, self._backend.decode_result(payload))
                if result is not None:
                    del self._pending[token]
                    done.append((pending, result))
            self._lock.notify_all()
        self._forget(done)

    def _check_deadlines(self) -> None:
        now = time.monotonic()
        done: Done = []
        with self._lock:
            for token, pending in list(self._pending.items()):
                reason = self._overdue(pending, now)
                if reason is not None:
                    del self._pending[token]
                    done.append((pending, failure(pending.resource, reason)))
            self._lock.notify_all()
        self._forget(done)

    def _overdue(self, pending: Pending, now: float) -> str | None:
        """Why ``pending`` will get no result, once a deadline passed; None while it may."""
        if not pending.claimed and now >= pending.pickup_by:
            if self._withdraw(keys=[pending.fence], args=[f"queued:{pending.token}"]):
                return (
                    f"no worker on queue {pending.queue!r} took the action within its"
                    f" queue_timeout of {pending.pickup_seconds:g}s"
                )
            pending.claimed = True
        if now >= pending.give_up_at:
            return (
                f"no result from queue {pending.queue!r}: the worker running it was lost"
                " and no other took it over in time"
            )
        return None

    def _forget(self, done: Done) -> None:
        """Delete the results read and release the fences of finished actions (one round trip),
        then resolve their futures."""
        if done:
            with self._client.pipeline(transaction=False) as pipe:
                pipe.delete(*(self._backend.get_key_for_task(p.token) for p, _ in done))
                self._release(
                    keys=[p.fence for p, _ in done], args=[p.token for p, _ in done], client=pipe
                )
                pipe.execute()
        with self._batching():
            for pending, result in done:
                pending.future.set_result(result)


_READY = {"SUCCESS", "FAILURE", "REVOKED"}


def _result(pending: Pending, meta: dict[str, Any]) -> ActionResult | None:
    """The action's result from a backend record; None while it is not final."""
    status = meta.get("status")
    if status not in _READY:
        return None
    value = meta.get("result")
    if status == "SUCCESS" and _is_result(value):
        return cast(ActionResult, value)
    if status == "REVOKED":
        return failure(pending.resource, f"the action expired on queue {pending.queue!r}")
    return failure(pending.resource, f"worker failed: {_describe(value)}")


def _is_result(value: object) -> bool:
    keys = ("resource", "ok", "exit_code", "error", "duration")
    return isinstance(value, dict) and all(key in value for key in keys)


def _describe(value: object) -> str:
    if isinstance(value, BaseException):
        name = type(value).__name__
        return f"{name}: {value}" if str(value) else name
    return repr(value)
