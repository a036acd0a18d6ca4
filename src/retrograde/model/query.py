"""Log queries: which commits to list, newest first, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LogQuery:
    """Filters combine with AND. ``before_rev`` is the page cursor: only revisions below it."""

    resource: str | None = None
    apply_id: int | None = None
    principal: str | None = None
    action: str | None = None
    input: str | None = None
    rev_from: int | None = None
    rev_to: int | None = None
    since: str | None = None
    until: str | None = None
    before_rev: int | None = None
    limit: int = 50
