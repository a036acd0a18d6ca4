"""The one place retrograde reads the wall clock, in the log's timestamp format.

A leaf module: the pure layers (model, planning) never import it; they take
times as values.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """ISO 8601 UTC with microseconds and a ``Z``, e.g. ``2026-11-25T15:35:56.123456Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
