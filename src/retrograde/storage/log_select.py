"""The SELECT that answers a :class:`LogQuery`: newest first, one page at a time.

``resource`` and ``apply_id`` are answered from the ``(resource, rev)`` and
``(apply_id, rev)`` indexes, everything else walks the primary key backwards
from the newest (or ``before_rev``) revision and stops after ``limit`` matches.
``since``/``until`` are inclusive and compare ISO 8601 text, so they must be
written like the stored timestamps (UTC, same precision).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from retrograde.model.commit import Commit
from retrograde.model.query import LogQuery
from retrograde.storage.schema import commits


def log_select(query: LogQuery, *, limit: int | None = None) -> Select[Any]:
    """Commits matching every filter of ``query``, newest first, at most ``limit``.

    ``query.input`` is only narrowed here (a text match on the stored JSON);
    :func:`touches_input` makes the exact decision.
    """
    return (
        select(commits)
        .where(*_conditions(query))
        .order_by(commits.c.rev.desc())
        .limit(query.limit if limit is None else limit)
    )


def touches_input(commit: Commit, name: str) -> bool:
    """Whether the commit changed the input ``name``."""
    return name in commit.diff


def _conditions(query: LogQuery) -> list[ColumnElement[bool]]:
    c = commits.c
    conditions: list[ColumnElement[bool]] = []
    equal = [
        (c.resource, query.resource),
        (c.apply_id, query.apply_id),
        (c.principal, query.principal),
        (c.action, query.action),
    ]
    conditions.extend(column == value for column, value in equal if value is not None)
    if query.rev_from is not None:
        conditions.append(c.rev >= query.rev_from)
    if query.rev_to is not None:
        conditions.append(c.rev <= query.rev_to)
    if query.before_rev is not None:
        conditions.append(c.rev < query.before_rev)
    if query.since is not None:
        conditions.append(c.timestamp >= query.since)
    if query.until is not None:
        conditions.append(c.timestamp <= query.until)
    if query.input is not None:
        key = json.dumps(query.input, ensure_ascii=False) + ":"
        conditions.append(c.payload.contains(key, autoescape=True))
    return conditions
