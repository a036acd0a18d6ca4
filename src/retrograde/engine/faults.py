"""Fault injection for crash tests: kill the applying process at an exact point.

Crash tests run a real ``retrograde apply`` with ``RETROGRADE_FAULT`` set to
``POINT:RESOURCE`` (read by :func:`retrograde.config.fault_spec`); when the
runner reaches that point for that resource, the process sends itself
SIGKILL: no cleanup, no flush, exactly like a power cut as far as the store
can tell. The points, in the order an action passes them:

``after-start``
    the action's intent (``started``) is durable; its handler is not yet dispatched.
``after-handler``
    its handler has finished; its result has not been committed.
``after-commit``
    the transaction holding its commit is durable.

A crash *during* a handler needs no hook: tests use a handler that sleeps and
kill the process from outside. Unset, the hook costs one comparison per action.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

from retrograde import config
from retrograde.errors import StateError

POINTS = ("after-start", "after-handler", "after-commit")


@dataclass(frozen=True, slots=True)
class FaultHook:
    """Kill this process when the runner reaches ``point`` for ``resource``."""

    point: str
    resource: str

    @classmethod
    def parse(cls, spec: str) -> FaultHook:
        """``after-handler:keystone1`` -> the hook; an unknown point is a StateError."""
        point, _, resource = spec.partition(":")
        if point not in POINTS or not resource:
            known = ", ".join(POINTS)
            raise StateError(
                f"RETROGRADE_FAULT={spec!r} is not POINT:RESOURCE with POINT in {known}"
            )
        return cls(point, resource)

    def reached(self, point: str, resource: str) -> None:
        """Called by the runner at each point; SIGKILLs the process at the chosen one."""
        if point == self.point and resource == self.resource:
            os.kill(os.getpid(), signal.SIGKILL)


def configured_fault() -> FaultHook | None:
    """The hook ``RETROGRADE_FAULT`` asks for, or None (always, outside crash tests)."""
    spec = config.fault_spec()
    return FaultHook.parse(spec) if spec else None
