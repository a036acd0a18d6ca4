"""Searching the log without scanning it: log pages, time windows, blame.

Every question is answered from an index, newest first, and stops as soon as
it has its answer:

- Equality filters walk their ``(column, rev)`` index; ``--input`` walks
  ``commit_inputs (name, rev)``, which ``record_commits`` fills in the same
  transaction as the commits.
- Time ranges become revision ranges. Timestamps never decrease with ``rev``
  (``record_commits`` keeps them so, see :func:`in_time_order`), so the first
  revision at or after a time is found by binary search over the primary key:
  about 20 point reads for a million commits, and no timestamp index to store.
- A ``resource`` filter follows renames: one ``(resource, rev)`` index seek per
  rename finds the span of revisions in which each name was the resource's,
  and the page is read from the newest span, then from 2, 4, ... spans per query.
- ``blame`` walks one resource's commits through ``(resource, rev)`` and stops
  once every input is attributed or it reaches the resource's ``run``.

Functions take the connection of the caller's transaction.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select, union_all

from retrograde.model.change import CREATING, ActionName
from retrograde.model.commit import Commit
from retrograde.model.query import LogQuery
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sql import commit_payload, rows
from retrograde.storage.sql.log_reads import commits_by_rev
from retrograde.storage.sql.log_select import log_select
from retrograde.storage.sql.schema import commits

SPANS_PER_QUERY = 100
"""Names of a renamed resource read in one query (SQLite allows 500 SELECTs in a UNION)."""

BLAME_PAGE = 1_000
"""Commits of the blamed resource read per round trip (revision, action, payload only)."""

Window = tuple[int, int]
"""An inclusive revision range ``(low, high)``; empty when ``low > high``."""

CREATING_VALUES = frozenset(action.value for action in CREATING)
"""Where a resource's history begins (an earlier resource of the same name came before)."""

BEGINNING_VALUES = sorted({*CREATING_VALUES, ActionName.MOVE.value})
"""Where a name's history begins: a resource created under it, or moved to it."""


def in_time_order(
    conn: Connection, head_rev: int, entries: Sequence[CommitEntry]
) -> list[CommitEntry]:
    """``entries`` with timestamps raised where needed so they never decrease with ``rev``.

    A clock that steps back (or two appliers whose clocks differ) would
    otherwise break the order that time-range searches rely on; such a commit
    takes the timestamp of the commit before it instead. Timestamps compare as
    ISO 8601 text, as they are stored.
    """
    latest = _timestamp_from(conn, head_rev) if head_rev else None
    kept: list[CommitEntry] = []
    for entry in entries:
        if not isinstance(entry.timestamp, str):
            pass  # not a timestamp: left for the database to refuse
        elif latest is not None and entry.timestamp < latest:
            entry = dataclasses.replace(entry, timestamp=latest)
        else:
            latest = entry.timestamp
        kept.append(entry)
    return kept


def log_page(conn: Connection, query: LogQuery, head_rev: int) -> list[Commit]:
    """Commits matching ``query``, newest first, at most ``query.limit``.

    A ``resource`` filter follows the resource across renames: each name it
    had contributes its commits only while the resource had it (see
    :func:`lineage`). The spans, which never overlap, are read newest first:
    the newest alone (usually the whole page), then 2, 4, ... at a time, each
    batch in one query.
    """
    low, high = window(conn, query, head_rev)
    if query.limit <= 0 or low > high:
        return []
    if query.resource is None:
        found = conn.execute(log_select(query, (low, high))).mappings().all()
        return [rows.commit_from_row(row) for row in found]
    spans = (
        (name, (max(first, low), min(last, high)))
        for name, (first, last) in lineage(conn, query.resource, head_rev, low)
        if first <= high
    )
    commits_found: list[Commit] = []
    batch = 1
    while len(commits_found) < query.limit:
        chunk = list(itertools.islice(spans, batch))
        if not chunk:
            break
        statement = _spans_select(query, chunk, query.limit - len(commits_found))
        commits_found.extend(
            rows.commit_from_row(row) for row in conn.execute(statement).mappings()
        )
        batch = min(batch * 2, SPANS_PER_QUERY)
    return commits_found


def lineage(
    conn: Connection, resource: str, head_rev: int, low: int = 1
) -> Iterator[tuple[str, Window]]:
    """Each name ``resource`` had and the revisions it had it, newest first, down to ``low``.

    The span of a name begins at the newest commit at or below the span's top
    that began it (``run``, ``adopt``, or a ``move`` to it), found by walking
    the ``(resource, rev)`` index down from the top; a name without one has
    it from revision 1. A creation right after a ``remove`` of the same name
    does not begin it: the name's history goes on through the removed
    resource (a replacement is still that name's history), while a creation
    after anything else follows a resource that was moved away, whose
    commits belong to its new name. When the beginning is a move, the former
    name's span ends just below the move, and so on. The spans follow each
    other without a gap: one or two short index walks per rename or
    re-creation, made as the spans are asked for, never a scan of the log.
    """
    name, top = resource, head_rev
    while top >= max(low, 1):
        start = _span_start(conn, name, top)
        first = 1 if start is None else int(start.rev)
        yield name, (first, top)
        former = None
        if start is not None and start.action == ActionName.MOVE.value:
            former = commit_payload.moved_from(rows.load(start.payload))
        if former is None:
            return
        name, top = former, first - 1


def _spans_select(query: LogQuery, spans: Sequence[tuple[str, Window]], limit: int) -> Any:
    """The newest ``limit`` commits matching ``query`` of each name within its span.

    Each span is its own SELECT walking the ``(resource, rev)`` index down
    from the span's top and stopping at ``limit``; one SELECT needs no union.
    """
    parts = [
        log_select(dataclasses.replace(query, resource=name), span, limit=limit)
        for name, span in spans
    ]
    if len(parts) == 1:
        return parts[0]
    joined = union_all(*(select(part.subquery()) for part in parts)).subquery()
    return select(joined).order_by(joined.c.rev.desc()).limit(limit)


def _span_start(conn: Connection, name: str, top: int) -> Any:
    """The commit that began ``name``'s span ending at ``top`` (None: it began at revision 1),
    looking past creations that follow a removal of the same name."""
    start = conn.execute(_beginning(name, top)).first()
    while start is not None and start.action != ActionName.MOVE.value:
        before = conn.execute(_previous(name, int(start.rev))).first()
        if before is None or before.action != ActionName.REMOVE.value:
            return start
        start = conn.execute(_beginning(name, int(before.rev))).first()
    return start


def _previous(resource: str, rev: int) -> Select[Any]:
    """The newest commit of ``resource`` below ``rev``."""
    c = commits.c
    return (
        select(c.rev, c.action)
        .where(c.resource == resource, c.rev < rev)
        .order_by(c.rev.desc())
        .limit(1)
    )


def _beginning(resource: str, top: int) -> Select[Any]:
    """The newest commit of ``resource`` at or below ``top`` that began it."""
    c = commits.c
    return (
        select(c.rev, c.action, c.payload)
        .where(c.resource == resource, c.rev <= top, c.action.in_(BEGINNING_VALUES))
        .order_by(c.rev.desc())
        .limit(1)
    )


def window(conn: Connection, query: LogQuery, head_rev: int) -> Window:
    """The revisions ``query`` can match at all: revision bounds, cursor, time range, apply."""
    low = max(1, query.rev_from or 1)
    high = head_rev
    if query.rev_to is not None:
        high = min(high, query.rev_to)
    if query.before_rev is not None:
        high = min(high, query.before_rev - 1)
    if query.since is not None and low <= high:
        low = _first_at_or_after(conn, query.since, low, high)
    if query.until is not None and low <= high:
        high = _first_after(conn, query.until, low, high) - 1
    if query.apply_id is not None and low <= high:
        low, high = _apply_span(conn, query.apply_id, low, high)
    return low, high


def blame(conn: Connection, resource: str, names: Collection[str]) -> dict[str, Commit]:
    """For each input in ``names``, the newest commit of ``resource`` whose diff set it.

    The walk ends at the resource's ``run`` or ``adopt`` (older commits belong
    to an earlier resource of the same name) and continues below a ``move``
    with the resource's former name; names no commit set are absent. Only
    revision, action and the diff's input names are read on the way; the
    commits found are read once at the end.
    """
    pending, found = set(names), dict[str, int]()
    before: int | None = None
    while pending:
        page = conn.execute(_resource_page(resource, before)).all()
        for rev, action, payload in page:
            loaded = rows.load(payload)
            moving = action == ActionName.MOVE.value  # re-sealed values, none changed
            touched = [] if moving else commit_payload.diff_names(loaded)
            found.update((name, int(rev)) for name in pending.intersection(touched))
            pending.difference_update(touched)
            if moving and pending:
                resource, before = commit_payload.moved_from(loaded) or resource, int(rev)
                break  # the former name's commits, below the move
            if action in CREATING_VALUES or not pending:
                pending.clear()
                break
        else:
            if len(page) < BLAME_PAGE:
                break
            before = int(page[-1][0])
    by_rev = {c.rev: c for c in commits_by_rev(conn, set(found.values()))}
    return {name: by_rev[rev] for name, rev in found.items()}


def _resource_page(resource: str, before: int | None) -> Select[Any]:
    """Revision, action and payload of ``resource``'s commits below ``before``, newest first."""
    c = commits.c
    query = (
        select(c.rev, c.action, c.payload)
        .where(c.resource == resource)
        .order_by(c.rev.desc())
        .limit(BLAME_PAGE)
    )
    return query if before is None else query.where(c.rev < before)


def _apply_span(conn: Connection, apply_id: int, low: int, high: int) -> Window:
    """The first and last revision of ``apply_id`` within ``[low, high]`` (two index seeks)."""
    inside = select(commits.c.rev).where(
        commits.c.apply_id == apply_id, commits.c.rev >= low, commits.c.rev <= high
    )
    first = conn.execute(inside.order_by(commits.c.rev).limit(1)).scalar()
    last = conn.execute(inside.order_by(commits.c.rev.desc()).limit(1)).scalar()
    return (1, 0) if first is None or last is None else (int(first), int(last))


def _first_at_or_after(conn: Connection, moment: str, low: int, high: int) -> int:
    """The smallest revision in ``[low, high]`` stamped at or after ``moment``, or ``high + 1``."""
    return _bisect(conn, lambda stamp: stamp >= moment, low, high)


def _first_after(conn: Connection, moment: str, low: int, high: int) -> int:
    """The smallest revision in ``[low, high]`` stamped after ``moment``, or ``high + 1``."""
    return _bisect(conn, lambda stamp: stamp > moment, low, high)


def _bisect(conn: Connection, reached: Callable[[str], bool], low: int, high: int) -> int:
    """The first revision in ``[low, high]`` whose timestamp is ``reached``; else ``high + 1``.

    Relies on timestamps never decreasing with ``rev``.
    """
    end = high + 1
    while low < end:
        middle = (low + end) // 2
        stamp = _timestamp_from(conn, middle)
        if stamp is None or reached(stamp):
            end = middle
        else:
            low = middle + 1
    return low


_TIMESTAMP_FROM = (
    select(commits.c.timestamp)
    .where(commits.c.rev >= bindparam("k_rev"))
    .order_by(commits.c.rev)
    .limit(1)
)
"""Built once: every commit turn checks the time order against the head's timestamp."""


def _timestamp_from(conn: Connection, rev: int) -> str | None:
    """The timestamp of ``rev`` (of the next stored revision, should ``rev`` be missing)."""
    stamp = conn.execute(_TIMESTAMP_FROM, {"k_rev": rev}).scalar()
    return None if stamp is None else str(stamp)
