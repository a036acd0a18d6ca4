"""``retrograde worker``: a Celery worker that runs the handlers of the actions sent to it.

The worker runs each action in its own checkout of the stack directory
(``--root``): a request's directory is relative to the top-level stack file's,
and is resolved under the root. Before running, it claims the action's fence
(a stale message never runs: see :mod:`~retrograde.executors.celery_app`) and
compares the handler files' digests with its copy; a difference is a failure
value naming the file. Everything else is :func:`run_action`, the same entry
point the threads executor calls, so results (and their masking) are the same.
A bundle (several actions in one message, see
:mod:`~retrograde.executors.celery_bundles`) runs its actions one after
another, each exactly so.

A request arrives as :meth:`CeleryExecutor.wire_request
<retrograde.executors.celery.CeleryExecutor.wire_request>` serialised it, its
secret values sealed: :func:`_run` opens them with the worker's key file
(:class:`~retrograde.executors.wire_secrets.WorkerKeys`) before anything reads
the request, and computes the texts to mask from them. So what comes back (the
result Celery stores in Redis) holds the handler's output masked; a worker that
cannot open the values (no key file, not the store's) fails the action with one
line naming the key file, and runs nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import Celery, Task, states
from celery.exceptions import Ignore

from retrograde import config
from retrograde.errors import SecretKeyError
from retrograde.executors.celery_app import (
    BUNDLE_TASK_NAME,
    CLAIM,
    TASK_NAME,
    action_queue,
    celery_app,
)
from retrograde.executors.handler_files import first_difference
from retrograde.executors.wire_secrets import WorkerKeys
from retrograde.handlers.process import failure
from retrograde.handlers.registry import run_action
from retrograde.model.apply import ActionRequest, ActionResult

RESULT_FLUSH_SECONDS = 0.05
"""The results of a bundle's actions are stored together, at its end or once the first of
them has waited this long (so that the coordinator commits them together, and none waits
behind a long action)."""


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """What ``retrograde worker`` was started with."""

    name: str
    queues: tuple[str, ...]
    root: Path
    concurrency: int
    prefetch: int = 1
    """Celery's prefetch multiplier: unacknowledged messages per process (late ack holds each
    until its action ends, so a held message is redelivered if the worker is lost)."""
    key_file: Path | None = None
    """The key file that opens the secret values sent to it (None: each store's default,
    :func:`~retrograde.config.secret_key_file`)."""


def worker_app(options: WorkerOptions) -> Celery:
    """The Celery app of a worker consuming ``options.queues``, with the action task."""
    app = celery_app(
        config.celery_broker(),
        config.celery_backend(),
        visibility_seconds=config.celery_visibility_seconds(),
    )
    app.conf.task_queues = [action_queue(app, name) for name in options.queues]
    app.conf.task_default_queue = options.queues[0]
    root = options.root.resolve()
    keys = WorkerKeys(options.key_file)

    @app.task(name=TASK_NAME, bind=True)
    def run_request(task: Task[Any, Any], request: ActionRequest, fence: str, token: str) -> Any:
        return _run(task, root, keys, request, fence, token)

    @app.task(name=BUNDLE_TASK_NAME, bind=True, ignore_result=True)
    def run_requests(
        task: Task[Any, Any], requests: list[ActionRequest], fences: list[str], tokens: list[str]
    ) -> None:
        _run_bundle(task, root, keys, list(zip(requests, fences, tokens, strict=True)))

    return app


def run_worker(options: WorkerOptions) -> None:
    """Run the worker until it is stopped (SIGTERM: finish the running actions first)."""
    os.environ[config.WORKER_ENV] = options.name  # handlers see it (forked pool children too)
    app = worker_app(options)
    app.worker_main(_argv(options))


def _argv(options: WorkerOptions) -> list[str]:
    return [
        "worker",
        f"--hostname={options.name}@%h",
        f"--queues={','.join(options.queues)}",
        f"--concurrency={options.concurrency}",
        f"--prefetch-multiplier={options.prefetch}",
        "--loglevel=INFO",
        "--pool=prefork",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def _run(
    task: Task[Any, Any],
    root: Path,
    keys: WorkerKeys,
    request: ActionRequest,
    fence: str,
    token: str,
) -> ActionResult:
    """Claim the fence, check the handler files, open the secret values, run the action
    under ``root``."""
    backend: Any = task.app.backend
    claim = backend.client.register_script(CLAIM)
    if not claim(keys=[fence], args=[f"queued:{token}", f"running:{token}"]):
        raise Ignore  # stale: another submission, or one the coordinator gave up on
    resource = str(request["context"].get("resource") or "")
    worker = os.environ[config.WORKER_ENV]
    expected = request.get("digests")
    if isinstance(expected, dict):
        mismatch = first_difference(root, expected)
        if mismatch is not None:
            return failure(resource, f"refused by worker {worker}: {mismatch}")
    try:
        opened = keys.opened(request)
    except SecretKeyError as error:
        return failure(resource, f"refused by worker {worker}: {_keyless(error)}")
    local: ActionRequest = {**opened, "cwd": str(_under(root, request["cwd"]))}
    return run_action(local)


def _run_bundle(
    task: Task[Any, Any],
    root: Path,
    keys: WorkerKeys,
    actions: list[tuple[ActionRequest, str, str]],
) -> None:
    """Run a bundle's actions one after another, each as :func:`_run` runs one alone, and
    store each one's result under its token (:class:`_ResultBuffer`).

    A stale action is skipped. Killed midway, the worker leaves the message
    unacknowledged: its redelivery skips the actions whose results were read
    (their fences are gone) and runs the others.
    """
    results = _ResultBuffer(task.app.backend)
    try:
        for request, fence, token in actions:
            try:
                results.add(token, _run(task, root, keys, request, fence, token))
            except Ignore:
                continue
    finally:
        results.flush()


class _ResultBuffer:
    """Stores results in Redis under their tokens, those that finish close together in one
    go: :data:`RESULT_FLUSH_SECONDS` after the first waiting one, at the latest."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self._lock = threading.Lock()
        self._waiting: list[tuple[str, ActionResult]] = []
        self._timer: threading.Timer | None = None

    def add(self, token: str, result: ActionResult) -> None:
        with self._lock:
            self._waiting.append((token, result))
            if self._timer is None:
                self._timer = threading.Timer(RESULT_FLUSH_SECONDS, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            for token, result in self._waiting:
                self._backend.store_result(token, result, states.SUCCESS)
            self._waiting = []


def _keyless(error: SecretKeyError) -> str:
    """Why the worker cannot open an action's secret values, and what to give it."""
    if error.problem == "tampered":
        return str(error)
    return (
        f"secret key file {error.key_file} {error.problem}: cannot open the action's secret"
        " values (start the worker with the store's key file: --key-file or"
        f" {config.SECRET_KEY_FILE_ENV}; see docs/scale-out.md)"
    )


def _under(root: Path, relative: str) -> Path:
    """``relative`` (a type directory, relative to the stack's) inside ``root``; ``..`` stays in."""
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) else root


def split_queues(values: Sequence[str], default: str) -> tuple[str, ...]:
    """``--queue a,b --queue c`` as ``(a, b, c)`` in order, once each; the default when none."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return tuple(dict.fromkeys(names)) or (default,)
