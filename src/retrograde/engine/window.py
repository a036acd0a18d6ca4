"""How many actions a run journals ``started`` ahead of their results.

The committing thread journals a window of actions as ``started`` in each turn
and hands them to the feeder; at most ``capacity`` of them run at once, the
rest wait for a free worker. The window has to cover what the workers finish
during one commit turn, or they idle while the turn is written and every turn
commits only a few actions. Handlers that take seconds finish a few actions
per turn and need no more than a few times ``capacity``; handlers that take
microseconds finish everything they are given during a turn, so the window
grows with what came back in the last turn, up to :data:`LIMIT`, and shrinks
again when handlers slow down.
"""

from __future__ import annotations

BASE = 8
"""The smallest window, as a multiple of the executor's capacity."""

LIMIT = 1024
"""The largest window, in actions: a turn never commits more than that many results."""

GROWTH = 2
"""The window after a turn is at least this many times the results that turn committed."""

DECAY = 0.75
"""A turn that came back smaller keeps this fraction of the window: a turn that met
few results (it began the moment the first came back) does not undo the growth."""


class Window:
    """The number of actions that may be journaled ``started`` without a result yet."""

    def __init__(self, capacity: int) -> None:
        self._base = max(1, capacity) * BASE
        self._size = float(self._base)

    @property
    def size(self) -> int:
        return int(self._size)

    def room(self, in_flight: int) -> int:
        """How many more actions may be journaled ``started`` now."""
        return max(0, self.size - in_flight)

    def turned(self, results: int) -> None:
        """A turn came back with ``results``: grow the window to cover them, or let it decay."""
        wanted = self._base + GROWTH * results
        self._size = min(float(max(LIMIT, self._base)), max(wanted, self._size * DECAY))
        self._size = max(self._size, float(self._base))
