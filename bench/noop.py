"""The no-op action used by the benchmarks: measures retrograde, not the handler."""

from __future__ import annotations

from typing import Any


def noop(context: dict[str, Any]) -> None:
    """Do nothing, successfully."""


def read_same(context: dict[str, Any]) -> dict[str, Any]:
    """A read that reports the committed inputs back: no drift, every input compared."""
    return dict(context["inputs"])


def read_grown(context: dict[str, Any]) -> dict[str, Any]:
    """A read that reports every resource one size larger than committed: all drifted."""
    return {"size": context["inputs"]["size"] + 1}
