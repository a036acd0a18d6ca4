"""SIGINT and SIGTERM during a run: the first asks it to stop, a second stops the process.

The engine installs no signal handler; the CLI maps signals to the run's
:class:`~retrograde.engine.cancel.CancelToken`. After the first signal no more
actions start, the ones running finish and are committed, and the apply is left
``interrupted`` for ``resume``. A second signal raises KeyboardInterrupt at once.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from retrograde.engine.cancel import CancelToken

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def cancelled_by_signals(token: CancelToken) -> Iterator[CancelToken]:
    """While the block runs, the first SIGINT/SIGTERM cancels ``token``; the next interrupts."""

    def handle(number: int, _frame: FrameType | None) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        name = signal.Signals(number).name
        click.echo(
            f"{name}: no more actions start; waiting for the running ones (again to stop now)",
            err=True,
        )
        token.cancel(name)

    previous = {number: signal.signal(number, handle) for number in SIGNALS}
    try:
        yield token
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
