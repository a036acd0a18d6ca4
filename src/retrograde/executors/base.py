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
    """Runs action requests; see the module docstring.

    ``capacity`` is how many actions it runs at once: the runner never has
    more in flight, so nothing queues inside the executor and a cancelled run
    has no submitted action left that has not started.
    """

    @property
    def capacity(self) -> int: ...

    def submit(self, request: ActionRequest) -> Future[ActionResult]:
        """Start ``request``; the future resolves to its result (never to an exception)."""
        ...

    def withdraw(self) -> None:
        """Take back submitted actions no handler has begun (the run was interrupted).

        Their futures resolve to a failure marked ``withdrawn``; what has begun
        finishes. Called from the runner's thread, possibly more than once.
        """
        ...

    def shutdown(self) -> None:
        """Wait for submitted actions to finish and release the executor's resources."""
        ...
