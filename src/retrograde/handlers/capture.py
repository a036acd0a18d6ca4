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


class Captured:
    """What one action printed, readable once its capture has closed."""

    __slots__ = ("_streams",)

    def __init__(self) -> None:
        self._streams: dict[str, io.StringIO] = {}

    def stream(self, which: str) -> io.StringIO:
        """The buffer of ``which`` (``stdout`` or ``stderr``), made on the first write."""
        found = self._streams.get(which)
        if found is None:
            found = self._streams[which] = io.StringIO()
        return found

    def text(self, which: str) -> str:
        found = self._streams.get(which)
        return "" if found is None else found.getvalue()


class _Router(io.TextIOBase):
    """Stands in for one standard stream while captures are open (see the module docstring)."""

    def __init__(self, which: str) -> None:
        self.original: TextIO = getattr(sys, which)
        self._which = which

    def _target(self) -> TextIO:
        captured: Captured | None = getattr(_local, "captured", None)
        return self.original if captured is None else captured.stream(self._which)

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        """Never closes: the router lives as long as the process (the original stream is not its
        to close)."""


_routers = (_Router("stdout"), _Router("stderr"))
"""Made once: routers are swapped in and out, never discarded (an IOBase flushes on collection)."""


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
    global _open
    with _lock:
        if _open == 0:
            out, err = _routers
            out.original, err.original = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = out, err
        _open += 1


def _close_capture() -> None:
    global _open
    with _lock:
        _open -= 1
        if _open:
            return
        out, err = _routers
        if sys.stdout is out:
            sys.stdout = out.original
        if sys.stderr is err:
            sys.stderr = err.original
