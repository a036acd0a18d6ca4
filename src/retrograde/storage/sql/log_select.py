"""The SELECT that answers a :class:`LogQuery`: newest first, one page at a time.

The caller (:mod:`retrograde.storage.sql.log_search`) first narrows the query to a
revision window (revision bounds, cursor, time range and apply, all turned
into revisions). Within it, one filter *drives*: the database walks that
filter's index backwards from the top of the window and stops after ``limit``
matches, checking the other filters on each row it meets. The driver is the
filter that usually matches fewest commits, in this fixed order: ``apply_id``
(its window is the apply itself), ``resource``, ``input`` (through
``commit_inputs (name, rev)``), ``principal``, ``action``; with none, the
primary key drives. The other filters are written so that no index can serve
them (``column || ''``, ``column + 0``), so the plan is the same on SQLite and
PostgreSQL, with or without statistics, and a common value (``--action
update``) never drives a query that names a rare one.

``since``/``until`` are kept as conditions too: they are inclusive and compare
ISO 8601 text, so they must be written like the stored timestamps (UTC, same
precision).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, exists, literal, select

from retrograde.model.query import LogQuery
from retrograde.storage.sql.schema import commit_inputs, commits

DRIVERS = ("apply_id", "resource", "input", "principal", "action")
"""Filters in the order in which they drive a query (see the module docstring)."""


def log_select(
    query: LogQuery, window: tuple[int, int], *, limit: int | None = None
) -> Select[Any]:
    """Commits in the inclusive revision ``window`` matching every filter, newest first."""
    driver = next((name for name in DRIVERS if getattr(query, name) is not None), None)
    rev = commit_inputs.c.rev if driver == "input" else commits.c.rev
    statement = select(commits)
    if driver == "input":
        statement = statement.select_from(
            commit_inputs.join(commits, commits.c.rev == commit_inputs.c.rev)
        )
    low, high = window
    return (
        statement.where(rev >= low, rev <= high, *_conditions(query, driver))
        .order_by(rev.desc())
        .limit(query.limit if limit is None else limit)
    )


def _conditions(query: LogQuery, driver: str | None) -> list[ColumnElement[bool]]:
    c = commits.c
    conditions: list[ColumnElement[bool]] = []
    for name, column in (
        ("apply_id", c.apply_id),
        ("resource", c.resource),
        ("principal", c.principal),
        ("action", c.action),
    ):
        value = getattr(query, name)
        if value is not None:
            unindexed = column if name == driver else _unindexed(column, name)
            conditions.append(unindexed == value)
    if query.input is not None:
        conditions.append(_touches(query.input, driver == "input"))
    if query.since is not None:
        conditions.append(c.timestamp >= query.since)
    if query.until is not None:
        conditions.append(c.timestamp <= query.until)
    return conditions


def _unindexed(column: Any, name: str) -> Any:
    """``column`` in an expression no index serves (same value)."""
    return column + 0 if name == "apply_id" else column.concat(literal(""))


def _touches(name: str, driving: bool) -> ColumnElement[bool]:
    """The commit's diff touches input ``name`` (the join already says so when it drives)."""
    if driving:
        return commit_inputs.c.name == name
    entry = select(literal(1)).where(
        commit_inputs.c.name == name, commit_inputs.c.rev == commits.c.rev
    )
    return exists(entry)
