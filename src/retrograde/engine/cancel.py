"""Cancellation of a run: a token the caller sets, the runner obeys.

The runner never installs signal handlers: the CLI maps SIGINT/SIGTERM to
:meth:`CancelToken.cancel`, a server maps its shutdown to it. ``cancel`` is
safe to call from a signal handler or another thread: it sets a flag and calls
the wake-up callbacks the runner registered (which only put a value on a
:class:`queue.SimpleQueue`, whose ``put`` is reentrant).
"""

from __future__ import annotations

from collections.abc import Callable


class CancelToken:
    """Asks a run to stop dispatching; the run finishes what is in flight and ends."""

    __slots__ = ("_callbacks", "_cancelled", "_killed", "reason")

    def __init__(self) -> None:
        self._cancelled = False
        self._killed = False
        self._callbacks: list[Callable[[], None]] = []
        self.reason = ""

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self, reason: str = "cancelled") -> None:
        """Ask the run to stop; later calls only keep the first reason."""
        if not self._cancelled:
            self.reason = reason
        self._cancelled = True
        for callback in list(self._callbacks):
            callback()

    @property
    def killed(self) -> bool:
        """Whether the running actions are being killed: a failure now means "cut short"."""
        return self._killed

    def kill(self, reason: str = "killed") -> None:
        """Cancel, and say that running actions are about to be killed.

        The run then keeps a failed action ``started`` instead of recording the
        failure, so ``resume`` runs it again, as after a crash.
        """
        self._killed = True
        self.cancel(reason)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when cancelled (at once if already cancelled)."""
        self._callbacks.append(callback)
        if self._cancelled:
            callback()
