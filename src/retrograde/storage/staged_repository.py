"""The ``staged`` repository of a store transaction: the staged log.

The staged log holds at most one value change per resource and, before them,
the renames waiting to be committed (``move`` changes, in the order ``apply``
commits them). The value changes name resources as they are after the moves:
``revert`` of a move stages the rename back and then the values under the
name it gives back. Replacing the log replaces both parts.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from retrograde.model.change import Change
from retrograde.model.types import TypeKey


class StagedRepository(Protocol):
    """The staged log: pending moves in order, then at most one change per resource."""

    def load(self) -> dict[str, Change]:
        """The staged value changes, by resource name (the moves are :meth:`moves`)."""
        ...

    def moves(self) -> list[Change]:
        """The staged ``move`` changes, in the order they are to be committed."""
        ...

    def count(self) -> int:
        """How many entries the staged log holds, moves included (reads no change)."""
        ...

    def replace(self, changes: Sequence[Change], moves: Sequence[Change] | None = ()) -> None:
        """Make ``moves`` (in order) and ``changes`` the whole staged log (``moves`` None:
        only the value changes are replaced, the staged moves stay as they are)."""
        ...

    def discard(self, names: Collection[str] | None = None) -> list[str]:
        """Drop the staged changes of ``names`` (all when None, the moves too); the names
        dropped, sorted (a move counts by its name after it)."""
        ...

    def remove(self, names: Collection[str]) -> None:
        """Drop the staged changes of ``names`` (those not staged are ignored); reads nothing,
        for the commit path, where the names are known to be staged."""
        ...

    def remove_moves(self) -> None:
        """Drop every staged move (``apply`` committed them)."""
        ...

    def kinds(self, names: Collection[str]) -> dict[str, TypeKey]:
        """``resource -> (type, version)`` of the staged changes of ``names`` (absent if none)."""
        ...
