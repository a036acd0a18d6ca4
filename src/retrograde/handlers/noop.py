"""The ``none`` handler: an action a resource type does not define.

The engine still plans, journals and commits such an action (the committed
state must follow the stack file), so it needs a handler that succeeds at once.
"""

from __future__ import annotations

from retrograde.handlers.process import success
from retrograde.model.apply import ActionRequest, ActionResult


class NoopHandler:
    """Succeeds immediately without running anything."""

    kind: str = "none"

    def run(self, request: ActionRequest) -> ActionResult:
        return success(str(request["context"].get("resource") or ""), 0.0)
