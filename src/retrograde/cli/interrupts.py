"""SIGINT and SIGTERM during a run: the first asks it to stop, a second kills what runs.

The engine installs no signal handler; the CLI maps signals to the run's
:class:`~retrograde.engine.cancel.CancelToken`. After the first signal no more
actions start, the ones running finish and are committed, and the apply is left
``interrupted`` for ``resume``. A second signal gives the running handlers
:data:`KILL_GRACE_SECONDS` to finish, then kills their process groups. Killed
actions are not failures: they stay in flight, so ``resume`` runs them again,
and the apply still ends ``interrupted`` with everything that finished
committed. A third signal raises KeyboardInterrupt at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from retrograde.engine.cancel import CancelToken
from retrograde.handlers.process import kill_running_commands

SIGNALS = (signal.SIGINT, signal.SIGTERM)
KILL_GRACE_SECONDS = 5.0
"""How long running handlers get after a second signal before their process groups are killed."""


@contextmanager
def cancelled_by_signals(token: CancelToken) -> Iterator[CancelToken]:
    """While the block runs, the first SIGINT/SIGTERM cancels ``token``; the next interrupts."""

    killer = threading.Timer(KILL_GRACE_SECONDS, _kill, (token,))
    killer.daemon = True

    def handle(number: int, _frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        if killer.is_alive() or killer.finished.is_set():
            raise KeyboardInterrupt
        if token.cancelled:
            click.echo(
                f"{name} again: running handlers are killed in {KILL_GRACE_SECONDS:g} s"
                " (again to stop at once)",
                err=True,
            )
            killer.start()
            return
        click.echo(
            f"{name}: no more actions start; waiting for the running ones (again to kill them)",
            err=True,
        )
        token.cancel(name)

    previous = {number: signal.signal(number, handle) for number in SIGNALS}
    try:
        yield token
    finally:
        killer.cancel()
        for number, handler in previous.items():
            signal.signal(number, handler)


def _kill(token: CancelToken) -> None:
    token.kill(token.reason)
    killed = kill_running_commands()
    click.echo(f"killed {killed} running handler(s)", err=True)
