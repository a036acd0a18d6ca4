"""The Celery executor: each action goes to a queue as JSON, results come back through Redis.

The applying process (the coordinator) stays the only writer of the store;
workers (``retrograde worker``) only run handlers. At most ``jobs`` actions are
sent at once (the rest wait here, unsent), so that ``capacity`` is what runs
and an interrupt has little to take back. For each request the executor:

1. picks the queue (the request's, else the default queue) and fences the
   action: its key (store, apply, resource) in Redis holds ``queued:TOKEN``
   for this submission (see :mod:`~retrograde.executors.celery_app`), which
   supersedes any earlier submission of the same action that no worker has
   started. The first time it sends an action of an apply, it also takes back
   every unclaimed submission of that apply an earlier coordinator left (it
   died; ``resume`` continues the apply): those messages never run;
2. sends it with the digests of its handler files
   (:mod:`~retrograde.executors.handler_files`), a soft and a hard time limit
   above its ``timeout``, and ``expires`` past every deadline below; alone, or
   with other actions ready for the same queue in one message
   (:mod:`~retrograde.executors.celery_bundles`);
3. resolves its future from the result backend
   (:class:`~retrograde.executors.celery_results.Results`).

:meth:`CeleryExecutor.withdraw` (the run was interrupted) takes back every
submission no worker has claimed, and the unsent ones: their futures resolve
to a result marked ``withdrawn`` (the action never ran); what a worker started
finishes.

Deadlines: a request no worker claimed within its ``queue_timeout`` (default:
its ``timeout``, else an hour) is withdrawn and fails saying so; one claimed
but without a result ``queue_timeout + timeout + grace`` after it was sent (its
worker was lost and no other took it over) fails too, and its fence is removed
so that a late redelivery never runs it. Either way the action stays staged.

Secrets: :meth:`CeleryExecutor.wire_request` is the one place a request is
serialised for the wire. Its secret values go sealed under the store's data
key (:class:`~retrograde.executors.wire_secrets.WireSecrets`, the ciphertext
they have at rest), never in clear; an executor given no store key fails an
action that has any. The worker opens them with its key file and masks what the
handler wrote before the result is stored (see
:mod:`~retrograde.executors.worker`); the coordinator deletes each result once
read, and one nobody reads expires after :data:`RESULT_EXPIRES_SECONDS`.

Connectivity is checked when the executor is created: a broker or backend that
cannot be reached is an :class:`~retrograde.errors.ExecutorError` before
anything is journaled.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, cast

from celery import Celery
from kombu.exceptions import KombuError
from redis import Redis
from redis.exceptions import RedisError

from retrograde import config
from retrograde.errors import ExecutorError, HandlerError, SecretKeyError, one_line
from retrograde.executors.celery_app import (
    BUNDLE_TASK_NAME,
    RESULT_EXPIRES_SECONDS,
    SHORT_ACTION_SECONDS,
    TASK_NAME,
    WITHDRAW_ALL,
    action_queue,
    apply_fences,
    celery_app,
    fence_key,
)
from retrograde.executors.celery_bundles import (
    Durations,
    Message,
    Outgoing,
    bundles,
    message,
)
from retrograde.executors.celery_results import (
    COORDINATOR_BACKEND,
    Pending,
    Results,
    withdrawn,
)
from retrograde.executors.handler_files import digests, handler_file_names
from retrograde.executors.wire_secrets import WireSecrets, refuse_clear
from retrograde.handlers.process import KILL_GRACE_SECONDS, failure
from retrograde.model.apply import ActionRequest, ActionResult

DEFAULT_QUEUE_TIMEOUT = 3600.0
"""How long an action without ``timeout`` or ``queue_timeout`` may wait to be picked up."""


class CeleryExecutor:
    """Runs up to ``jobs`` actions at once on Celery workers; futures never hold an exception.

    ``submit`` is thread safe (the runner calls it from the thread that
    resolved the previous future). ``shutdown`` waits until every submitted
    action has a result or has passed its deadline. ``scope`` names the store
    (its URL: only a digest of it reaches Redis), so that fences of different
    stores sharing one Redis never meet; ``secrets`` seals the store's secret
    values for the wire (without it, an action that has any fails).
    """

    def __init__(
        self,
        jobs: int,
        *,
        broker: str | None = None,
        backend: str | None = None,
        default_queue: str | None = None,
        scope: str = "",
        secrets: WireSecrets | None = None,
    ) -> None:
        if jobs < 1:
            raise HandlerError(f"jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self.default_queue = default_queue or config.celery_queue()
        self.visibility = config.celery_visibility_seconds()
        backend_url = backend or config.celery_backend()
        self._app = celery_app(
            broker or config.celery_broker(),
            backend_url,
            visibility_seconds=self.visibility,
            backend_class=COORDINATOR_BACKEND,
        )
        self._redis = _check_connections(self._app, backend_url)
        self._scope = hashlib.sha256(scope.encode()).hexdigest()[:16]
        self._secrets = secrets
        self._digests: dict[tuple[str, ...], dict[str, str]] = {}
        self._attempts = itertools.count(1)
        self._prefix = uuid.uuid4().hex  # tokens: a counter and this, unique per submission
        self._lock = threading.Lock()
        self._sent: set[Future[ActionResult]] = set()
        self._unsent: deque[tuple[ActionRequest, Future[ActionResult]]] = deque()
        self._withdrawn = False
        self._applies: set[object] = set()
        self._withdraw_all = cast(Any, self._redis).register_script(WITHDRAW_ALL)
        self._outbox: list[Outgoing] = []
        self._durations = Durations(config.celery_bundle_seconds(SHORT_ACTION_SECONDS))
        self._out: dict[str, int] = {}
        self._out_futures: dict[Future[ActionResult], str] = {}
        self._holding = threading.local()
        self._results = Results(self._app, self._redis, batching=self._batch)

    @property
    def capacity(self) -> int:
        return self.jobs

    def submit(self, request: ActionRequest) -> Future[ActionResult]:
        future: Future[ActionResult] = Future()
        future.add_done_callback(self._freed)  # before the caller's: the slot frees first
        with self._lock:
            refused = self._withdrawn
            if not refused and len(self._sent) >= self.jobs:
                self._unsent.append((request, future))
                return future
            if not refused:
                self._sent.add(future)
        if refused:  # submitted after an interrupt: it never starts
            future.set_result(withdrawn(_resource(request), self._queue(request)))
        else:
            self._start(request, future)
        return future

    def withdraw(self) -> None:
        """Take back what no worker has started (an interrupted run); see the module docstring."""
        with self._lock:
            self._withdrawn = True
            unsent = list(self._unsent)
            self._unsent.clear()
            held, self._outbox = self._outbox, []
        for request, future in unsent:
            future.set_result(withdrawn(_resource(request), self._queue(request)))
        for action in held:
            action.pending.future.set_result(
                withdrawn(action.pending.resource, action.pending.queue)
            )
        with contextlib.suppress(RedisError, OSError):  # Redis is gone: deadlines resolve them
            self._results.withdraw_unclaimed()

    def shutdown(self) -> None:
        self._results.close()
        self._app.close()

    def _freed(self, future: Future[ActionResult]) -> None:
        """An action resolved: send the next unsent one in its place (and what waited for a
        fuller bundle, unless the results thread sends it with its batch)."""
        following: tuple[ActionRequest, Future[ActionResult]] | None = None
        with self._lock:
            self._landed(future)
            if future in self._sent:
                self._sent.discard(future)
                if not self._withdrawn and self._unsent:
                    following = self._unsent.popleft()
                    self._sent.add(following[1])
        if following is not None:
            self._start(*following)
        elif self._outbox and not getattr(self._holding, "active", False):
            self._flush()

    def _landed(self, future: Future[ActionResult]) -> None:
        """Count a sent action's result (under the lock): one less out, and its duration."""
        queue = self._out_futures.pop(future, None)
        if queue is None:
            return
        self._out[queue] -= 1
        result = future.result()
        if not result.get("withdrawn"):
            self._durations.add(queue, float(result.get("duration") or 0.0))

    def _start(self, request: ActionRequest, future: Future[ActionResult]) -> None:
        """Send ``request`` now, or with the others resolved in the same batch of results."""
        try:
            outgoing = self._prepare(request, future)
        except (KombuError, RedisError, OSError) as exc:
            future.set_result(failure(_resource(request), f"cannot send the action: {exc}"))
            return
        if outgoing is None:
            return
        with self._lock:
            self._outbox.append(outgoing)
        if not getattr(self._holding, "active", False):
            self._flush()

    @contextlib.contextmanager
    def _batch(self) -> Iterator[None]:
        """While the results thread resolves a batch, the sends it causes wait, then go at once:
        their fences in one Redis round trip, their messages through one producer."""
        self._holding.active = True
        try:
            yield
        finally:
            self._holding.active = False
            self._flush()

    def _flush(self) -> None:
        """Send what is ready, in bundles (:func:`~retrograde.executors.celery_bundles.bundles`)."""
        with self._lock:
            ready, self._outbox = bundles(
                self._outbox, self._durations.limit, self._out_count, self.visibility
            )
            for bundle in ready:
                for action in bundle:
                    self._out_futures[action.pending.future] = action.pending.queue
                    self._out[action.pending.queue] = self._out_count(action.pending.queue) + 1
        if ready:
            self._send([self._message(bundle) for bundle in ready])
        if self._withdrawn:  # an interrupt came while these were on their way
            self.withdraw()

    def _send(self, messages: list[Message]) -> None:
        """The fences of ``messages`` in one Redis round trip, then the messages through one
        producer."""
        batch = [action for sent in messages for action in sent.actions]
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for sent in messages:
                    for key, value, ttl in sent.fences:
                        pipe.set(key, value, ex=ttl)
                pipe.execute()
            for action in batch:
                self._results.expect(action.pending)
            with self._app.producer_or_acquire() as producer:
                for sent in messages:
                    self._app.send_task(sent.task, producer=producer, **sent.options)
        except (KombuError, RedisError, OSError) as exc:
            self._abandon(batch, f"cannot send the action: {exc}")

    def _message(self, bundle: list[Outgoing]) -> Message:
        return message(
            BUNDLE_TASK_NAME,
            TASK_NAME,
            bundle,
            visibility=self.visibility,
            result_expires=RESULT_EXPIRES_SECONDS,
        )

    def _out_count(self, queue: str) -> int:
        return self._out.get(queue, 0)

    def _abandon(self, batch: list[Outgoing], reason: str) -> None:
        """A batch that could not all be sent: take back what no worker claimed, and fail it.

        A message that did go out and was claimed is left to finish; when Redis
        itself is gone, nothing can be claimed, and all of them fail.
        """
        keys = [out.pending.fence for out in batch]
        try:
            taken = self._withdraw_all(keys=keys, args=[f"queued:{o.pending.token}" for o in batch])
        except (RedisError, OSError):
            taken = range(1, len(batch) + 1)
        for index in taken:
            self._results.abandon(batch[index - 1].pending, reason)

    def _queue(self, request: ActionRequest) -> str:
        return request.get("queue") or self.default_queue

    def _prepare(self, request: ActionRequest, future: Future[ActionResult]) -> Outgoing | None:
        """One submission, ready to go; None (the future resolved) when its deadlines cannot
        fit the broker's visibility timeout or its secret values cannot be sealed."""
        context = request["context"]
        resource = _resource(request)
        timeout = request["timeout"]
        pickup = request.get("queue_timeout") or timeout or DEFAULT_QUEUE_TIMEOUT
        running = timeout + 2 * KILL_GRACE_SECONDS if timeout else self.visibility - pickup
        if running <= 0 or pickup + running > self.visibility:
            future.set_result(failure(resource, self._too_long(pickup, running)))
            return None
        try:
            wired = self.wire_request(request)
        except (HandlerError, SecretKeyError) as exc:
            future.set_result(failure(resource, f"cannot send the action: {exc}"))
            return None
        queue = self._queue(request)
        apply_id = context.get("apply_id")
        self._supersede(apply_id)
        token = f"{next(self._attempts)}:{self._prefix}"
        fence = fence_key(self._scope, apply_id, resource)
        pending = Pending(future, resource, queue, fence, token, 0.0, 0.0, pickup)  # deadlines:
        # from when it is sent
        return Outgoing(pending, wired, action_queue(self._app, queue), pickup, running, timeout)

    def _supersede(self, apply_id: object) -> None:
        """Once per apply: take back the unclaimed submissions an earlier coordinator left."""
        with self._lock:
            if apply_id in self._applies:
                return
            self._applies.add(apply_id)
        keys = list(self._redis.scan_iter(match=apply_fences(self._scope, apply_id), count=1000))
        if not keys:
            return
        values = [v.decode() if isinstance(v, bytes) else v for v in self._redis.mget(keys)]
        pairs = zip(keys, values, strict=True)
        queued = [(key, value) for key, value in pairs if value and value.startswith("queued:")]
        if queued:
            self._withdraw_all(keys=[k for k, _ in queued], args=[v for _, v in queued])

    def wire_request(self, request: ActionRequest) -> dict[str, Any]:
        """The request as a worker gets it: its directory relative to the stack's, with
        digests, its secret values sealed.

        A type's directory is the top-level stack file's, which is what a
        worker's ``--root`` is a checkout of. Secret values are sealed by
        :meth:`WireSecrets.sealed <retrograde.executors.wire_secrets.WireSecrets.sealed>`
        (and opened in :mod:`~retrograde.executors.worker`); without ``secrets``,
        a request that has any is :class:`~retrograde.errors.HandlerError`.
        """
        names = handler_file_names(request)
        key = (request["cwd"], *names)
        if key not in self._digests:
            self._digests[key] = digests(Path(request["cwd"]), names)
        if self._secrets is None:
            refuse_clear(request)
            wired = dict(request)
        else:
            wired = self._secrets.sealed(request)
        return {**wired, "cwd": ".", "digests": self._digests[key]}

    def _too_long(self, pickup: float, running: float) -> str:
        return (
            f"queue_timeout + timeout ({pickup + running:g}s with grace) exceed the broker's"
            f" visibility timeout of {self.visibility:g}s ({config.CELERY_VISIBILITY_ENV})"
        )

    def __enter__(self) -> CeleryExecutor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()


def _resource(request: ActionRequest) -> str:
    return str(request["context"].get("resource") or "")


def _check_connections(app: Celery, backend_url: str) -> Redis:
    """The backend's Redis client, once the broker and the backend both answered."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=5)
    except (KombuError, OSError) as exc:
        raise ExecutorError("celery", "broker", _shown(app.conf.broker_url), str(exc)) from exc
    try:
        backend: Any = app.backend  # Celery checks the URL's TLS parameters here
    except ValueError as exc:
        url = _shown(backend_url)
        raise ExecutorError("celery", "result backend", url, one_line(str(exc))) from exc
    client: Redis = backend.client
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        url = _shown(backend_url)
        raise ExecutorError("celery", "result backend", url, str(exc)) from exc
    return client


def _shown(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"
