"""The Celery executor: each action goes to a queue as JSON, results come back through Redis.

The applying process (the coordinator) stays the only writer of the store;
workers (``retrograde worker``) only run handlers. For each request the
executor:

1. picks the queue (the request's, else the default queue) and fences the
   action: the key (apply, resource) in Redis holds ``queued:TOKEN`` for this
   submission (see :mod:`~retrograde.executors.celery_app`);
2. sends it with the digests of its handler files
   (:mod:`~retrograde.executors.handler_files`), a soft and a hard time limit
   above its ``timeout``, and ``expires`` past every deadline below;
3. resolves its future from the result backend (:class:`_Results`: one
   thread on a Redis subscription, with a periodic sweep as a backstop), and
   forgets the result once read.

Deadlines: a request no worker claimed within its ``queue_timeout`` (default:
its ``timeout``, else an hour) is withdrawn and fails saying so; one claimed
but without a result ``queue_timeout + timeout + grace`` after it was sent (its
worker was lost and no other took it over) fails too, and its fence is removed
so that a late redelivery never runs it. Either way the action stays staged.

Connectivity is checked when the executor is created: a broker or backend that
cannot be reached is an :class:`~retrograde.errors.ExecutorError` before
anything is journaled.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from celery import Celery
from kombu.exceptions import KombuError
from redis import Redis
from redis.exceptions import RedisError

from retrograde import config
from retrograde.errors import ExecutorError, HandlerError
from retrograde.executors.celery_app import (
    RESULT_EXPIRES_SECONDS,
    TASK_NAME,
    WITHDRAW,
    action_queue,
    celery_app,
    fence_key,
)
from retrograde.executors.handler_files import digests, handler_file_names
from retrograde.handlers.process import KILL_GRACE_SECONDS, failure
from retrograde.model.apply import ActionRequest, ActionResult

DEFAULT_QUEUE_TIMEOUT = 3600.0
"""How long an action without ``timeout`` or ``queue_timeout`` may wait to be picked up."""

RESULT_GRACE_SECONDS = 10.0
"""Slack past the worker's hard time limit before a missing result counts as a lost worker."""

SWEEP_SECONDS = 0.2
"""How often deadlines are checked and results read directly, in case a notification was missed."""


@dataclass(slots=True)
class _Pending:
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


class CeleryExecutor:
    """Runs up to ``jobs`` actions at once on Celery workers; futures never hold an exception.

    ``submit`` is thread safe (the runner calls it from the thread that
    resolved the previous future). ``shutdown`` waits until every submitted
    action has a result or has passed its deadline.
    """

    def __init__(
        self,
        jobs: int,
        *,
        broker: str | None = None,
        backend: str | None = None,
        default_queue: str | None = None,
    ) -> None:
        if jobs < 1:
            raise HandlerError(f"jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self.default_queue = default_queue or config.celery_queue()
        self.visibility = config.celery_visibility_seconds()
        self._app = celery_app(
            broker or config.celery_broker(),
            backend or config.celery_backend(),
            visibility_seconds=self.visibility,
        )
        self._redis = _check_connections(self._app)
        self._digests: dict[tuple[str, ...], dict[str, str]] = {}
        self._attempts = itertools.count(1)
        self._results = _Results(self._app, self._redis)

    @property
    def capacity(self) -> int:
        return self.jobs

    def submit(self, request: ActionRequest) -> Future[ActionResult]:
        future: Future[ActionResult] = Future()
        resource = str(request["context"].get("resource") or "")
        try:
            self._send(request, future)
        except (KombuError, RedisError, OSError) as exc:
            future.set_result(failure(resource, f"cannot send the action to Celery: {exc}"))
        return future

    def shutdown(self) -> None:
        self._results.close()
        self._app.close()

    def _send(self, request: ActionRequest, future: Future[ActionResult]) -> None:
        context = request["context"]
        resource = str(context.get("resource") or "")
        timeout = request["timeout"]
        pickup = request.get("queue_timeout") or timeout or DEFAULT_QUEUE_TIMEOUT
        running = timeout + 2 * KILL_GRACE_SECONDS if timeout else self.visibility - pickup
        if running <= 0 or pickup + running > self.visibility:
            future.set_result(failure(resource, self._too_long(pickup, running)))
            return
        queue = request.get("queue") or self.default_queue
        token = f"{next(self._attempts)}:{uuid.uuid4().hex}"
        fence = fence_key(context.get("apply_id"), resource, token)
        expires = pickup + running + RESULT_GRACE_SECONDS
        self._redis.set(fence, f"queued:{token}", ex=int(expires) + RESULT_EXPIRES_SECONDS)
        now = time.monotonic()
        pending = _Pending(
            future, resource, queue, fence, token, now + pickup, now + expires, pickup
        )
        self._results.expect(token, pending)
        self._app.send_task(
            TASK_NAME,
            args=[self._wire(request)],
            kwargs={"fence": fence, "token": token},
            task_id=token,
            queue=cast(str, action_queue(self._app, queue)),  # a Queue: declared as workers do
            expires=expires,
            soft_time_limit=math.ceil(timeout + KILL_GRACE_SECONDS) if timeout else None,
            time_limit=math.ceil(timeout + 2 * KILL_GRACE_SECONDS) if timeout else None,
        )

    def _wire(self, request: ActionRequest) -> dict[str, Any]:
        """The request as a worker gets it: its directory relative to the stack's, with digests.

        A type's directory is the top-level stack file's, which is what a
        worker's ``--root`` is a checkout of.
        """
        names = handler_file_names(request)
        key = (request["cwd"], *names)
        if key not in self._digests:
            self._digests[key] = digests(Path(request["cwd"]), names)
        return {**request, "cwd": ".", "digests": self._digests[key]}

    def _too_long(self, pickup: float, running: float) -> str:
        return (
            f"queue_timeout + timeout ({pickup + running:g}s with grace) exceed the broker's"
            f" visibility timeout of {self.visibility:g}s ({config.CELERY_VISIBILITY_ENV})"
        )

    def __enter__(self) -> CeleryExecutor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()


def _check_connections(app: Celery) -> Redis:
    """The backend's Redis client, once the broker and the backend both answered."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=5)
    except (KombuError, OSError) as exc:
        raise ExecutorError("celery", "broker", _shown(app.conf.broker_url), str(exc)) from exc
    backend: Any = app.backend
    client: Redis = backend.client
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        url = _shown(str(app.conf.result_backend))
        raise ExecutorError("celery", "result backend", url, str(exc)) from exc
    return client


def _shown(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


class _Results:
    """Waits for results on one thread and resolves the futures of :class:`_Pending` actions.

    Results are announced on the backend's Redis channels (Celery publishes
    each stored result on its key); a sweep every :data:`SWEEP_SECONDS` also
    reads the keys of everything pending and checks deadlines. Futures are
    resolved outside the lock: the runner's callback submits the next action.
    """

    def __init__(self, app: Celery, client: Redis) -> None:
        self._backend: Any = cast(Any, app.backend)
        self._client: Any = cast(Any, client)
        self._withdraw = self._client.register_script(WITHDRAW)
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Condition()
        self._closing = False
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        pattern = self._backend.get_key_for_task("*")
        self._prefix = (pattern.decode() if isinstance(pattern, bytes) else pattern)[:-1]
        self._pubsub.psubscribe(pattern)
        self._thread = threading.Thread(target=self._loop, name="retrograde-celery", daemon=True)
        self._thread.start()

    def expect(self, token: str, pending: _Pending) -> None:
        with self._lock:
            self._pending[token] = pending

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
                message = self._pubsub.get_message(timeout=SWEEP_SECONDS)
                if message is not None:
                    self._arrived({self._task_id(message["channel"]): message["data"]})
                if time.monotonic() - swept >= SWEEP_SECONDS:
                    swept = time.monotonic()
                    self._sweep()
            except (RedisError, OSError):
                time.sleep(SWEEP_SECONDS)  # Redis went away: the sweep retries until deadlines

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
        done: list[tuple[_Pending, ActionResult]] = []
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
        done: list[tuple[_Pending, ActionResult]] = []
        with self._lock:
            for token, pending in list(self._pending.items()):
                reason = self._overdue(pending, now)
                if reason is not None:
                    del self._pending[token]
                    done.append((pending, failure(pending.resource, reason)))
            self._lock.notify_all()
        self._forget(done)

    def _overdue(self, pending: _Pending, now: float) -> str | None:
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

    def _forget(self, done: list[tuple[_Pending, ActionResult]]) -> None:
        """Delete the results read and the fences of finished actions, then resolve futures."""
        if done:
            keys = [self._backend.get_key_for_task(p.token) for p, _ in done]
            self._client.delete(*keys, *(p.fence for p, _ in done))
        for pending, result in done:
            pending.future.set_result(result)


_READY = {"SUCCESS", "FAILURE", "REVOKED"}


def _result(pending: _Pending, meta: dict[str, Any]) -> ActionResult | None:
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
