"""The SELECT that answers a :class:`LogQuery`: newest first, one page at a time.

The caller (:mod:`retrograde.storage.history`) first narrows the query to a
revision window (revision bounds, cursor, and the time range turned into
revisions). Within it, each equality filter has a ``(column, rev)`` index and
``input`` has ``commit_inputs (name, rev)``, so the database walks an index
backwards from the top of the window and stops after ``limit`` matches.
``since``/``until`` are kept as conditions too: they are inclusive and compare
ISO 8601 text, so they must be written like the stored timestamps (UTC, same
precision).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from retrograde.model.query import LogQuery
from retrograde.storage.schema import commit_inputs, commits


def log_select(
    query: LogQuery, window: tuple[int, int], *, limit: int | None = None
) -> Select[Any]:
    """Commits in the inclusive revision ``window`` matching every filter, newest first."""
    low, high = window
    rev = commits.c.rev
    statement = select(commits)
    if query.input is not None:
        statement = statement.join(commit_inputs, commit_inputs.c.rev == commits.c.rev)
        statement = statement.where(commit_inputs.c.name == query.input)
        rev = commit_inputs.c.rev
    return (
        statement.where(rev >= low, rev <= high, *_conditions(query))
        .order_by(rev.desc())
        .limit(query.limit if limit is None else limit)
    )


def _conditions(query: LogQuery) -> list[ColumnElement[bool]]:
    c = commits.c
    equal = [
        (c.resource, query.resource),
        (c.apply_id, query.apply_id),
        (c.principal, query.principal),
        (c.action, query.action),
    ]
    conditions = [column == value for column, value in equal if value is not None]
    if query.since is not None:
        conditions.append(c.timestamp >= query.since)
    if query.until is not None:
        conditions.append(c.timestamp <= query.until)
    return conditions
