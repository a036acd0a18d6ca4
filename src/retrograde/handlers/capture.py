"""Capturing what an in-process action function prints, per thread.

``sys.stdout`` and ``sys.stderr`` belong to the whole process, while python
actions run on several worker threads at once, so redirecting them (as
``contextlib.redirect_stdout`` does) would mix the output of concurrent
actions and swallow everyone else's. Instead, while at least one capture is
open, both are replaced by a :class:`_Router` that sends what a capturing
thread writes to that thread's buffer and everything else to the stream it
replaced; the last capture to close puts the original streams back (unless
something else replaced them meanwhile).

Only writes through ``sys.stdout``/``sys.stderr`` (``print``, ``logging``'s
stream handlers created while capturing) are seen: a child process, or a
thread the function starts, writes where it always did.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_lock = threading.Lock()
_local = threading.local()
_open = 0
_routers: tuple[_Router, _Router] | None = None


class Captured:
    """What one action printed, readable once its capture has closed."""

    def __init__(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()


class _Router(io.TextIOBase):
    """Stands in for one standard stream while captures are open (see the module docstring)."""

    def __init__(self, original: TextIO, which: str) -> None:
        self.original = original
        self._which = which

    def _target(self) -> TextIO:
        captured: Captured | None = getattr(_local, "captured", None)
        if captured is None:
            return self.original
        stream: TextIO = getattr(captured, self._which)
        return stream

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def writable(self) -> bool:
        return True


@contextmanager
def capturing() -> Iterator[Captured]:
    """Capture what this thread writes to ``sys.stdout``/``sys.stderr`` during the block."""
    captured = Captured()
    _open_capture()
    _local.captured = captured
    try:
        yield captured
    finally:
        _local.captured = None
        _close_capture()


def _open_capture() -> None:
    global _open, _routers
    with _lock:
        if _open == 0:
            _routers = (_Router(sys.stdout, "stdout"), _Router(sys.stderr, "stderr"))
            sys.stdout, sys.stderr = _routers
        _open += 1


def _close_capture() -> None:
    global _open, _routers
    with _lock:
        _open -= 1
        if _open or _routers is None:
            return
        out, err = _routers
        if sys.stdout is out:
            sys.stdout = out.original
        if sys.stderr is err:
            sys.stderr = err.original
        _routers = None
