"""The no-op action used by the benchmarks: measures retrograde, not the handler."""

from __future__ import annotations

from typing import Any


def noop(context: dict[str, Any]) -> None:
    """Do nothing, successfully."""
