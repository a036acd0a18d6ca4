"""Executor lookup by name (``--executor``), as an explicit constant mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from retrograde.errors import ExecutorError, HandlerError

if TYPE_CHECKING:  # the CLI reads the names at start-up; the executors load when chosen
    from retrograde.executors.base import Executor
    from retrograde.executors.wire_secrets import WireSecrets

DEFAULT_EXECUTOR = "threads"


def _threads(jobs: int, scope: str, secrets: WireSecrets | None) -> Executor:
    """The in-process executor (imported when chosen, so that starting the CLI stays cheap)."""
    from retrograde.executors.threads import ThreadExecutor

    return ThreadExecutor(jobs)


def _celery(jobs: int, scope: str, secrets: WireSecrets | None) -> Executor:
    """The Celery executor, imported only when chosen (Celery is the ``celery`` extra)."""
    try:
        from retrograde.executors.celery import CeleryExecutor
    except ImportError as exc:
        raise ExecutorError(
            "celery", "library", "this Python", f"{exc} (install retrograde[celery])"
        ) from exc
    return CeleryExecutor(jobs, scope=scope, secrets=secrets)


EXECUTORS: Mapping[str, Callable[[int, str, WireSecrets | None], Executor]] = {
    "threads": _threads,
    "celery": _celery,
}
"""Every executor retrograde knows; each is built from the ``--jobs`` bound, the scope and
the store's secrets."""


def executor_for(
    name: str, jobs: int, *, scope: str = "", secrets: WireSecrets | None = None
) -> Executor:
    """A new executor named ``name`` running up to ``jobs`` actions at once.

    ``scope`` names the store the actions belong to (its URL): an executor
    that shares state between processes (Celery's fences) keys it by scope.
    ``secrets`` seals the store's secret values for an executor that sends
    requests to other machines (the in-process one needs none).

    Raises HandlerError for an unknown name or a ``jobs`` below 1, and
    ExecutorError when the executor cannot reach what it needs (Celery's broker
    or result backend). The caller owns the executor and must ``shutdown()`` it.
    """
    factory = EXECUTORS.get(name)
    if factory is None:
        known = ", ".join(sorted(EXECUTORS))
        raise HandlerError(f"unknown executor {name!r} (known: {known})")
    return factory(jobs, scope, secrets)
