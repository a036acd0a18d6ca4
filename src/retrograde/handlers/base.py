"""The handler contract: perform one action, report the outcome as a value.

A handler receives an :class:`~retrograde.model.apply.ActionRequest` (plain
JSON) and returns an :class:`~retrograde.model.apply.ActionResult`. It never
raises for a failed action: a non-zero exit, a timeout or an exception in user
code becomes ``ok=False`` with the error text (stderr tail) in ``error``.
Handlers are called from worker threads concurrently and must keep no shared
mutable state. Handlers should be idempotent: an interrupted apply re-runs the
action that was in flight.
"""

from __future__ import annotations

from typing import Protocol

from retrograde.model.apply import ActionRequest, ActionResult


class Handler(Protocol):
    kind: str

    def run(self, request: ActionRequest) -> ActionResult: ...
