"""The executor contract: run action requests somewhere, hand back futures of results.

``submit`` never raises for a failing action; the future resolves to an
:class:`~retrograde.model.apply.ActionResult` with ``ok=False``. Requests and
results are plain JSON so that an executor may ship them to another process or
machine.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from retrograde.model.apply import ActionRequest, ActionResult


class Executor(Protocol):
    def submit(self, request: ActionRequest) -> Future[ActionResult]: ...

    def shutdown(self) -> None: ...
