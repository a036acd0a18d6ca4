"""The outcome counts of applies that have not finished, from their journal.

``applies.succeeded``, ``failed``, ``skipped`` and ``failures`` are written
once, when an apply finishes; until then (running, or interrupted by a crash)
the truth is in ``apply_tasks``. Listing a page of applies counts the journal
of the unfinished ones on the page in one grouped query (and reads the errors
of their failed tasks in one more, only when there are any), never one query
per apply; finished applies keep their stored counts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import Connection, func, select

from retrograde.model.apply import ApplyRecord, ApplyStatus
from retrograde.model.journal import TaskStatus
from retrograde.model.jsonvalue import JSON
from retrograde.storage.sql import rows
from retrograde.storage.sql.schema import apply_tasks

UNFINISHED = frozenset({ApplyStatus.RUNNING, ApplyStatus.INTERRUPTED})


def with_journal_counts(conn: Connection, records: Sequence[ApplyRecord]) -> list[ApplyRecord]:
    """``records`` with each unfinished one's counts and failures taken from its journal."""
    ids = [record.id for record in records if record.status in UNFINISHED]
    if not ids:
        return list(records)
    counts = _counts(conn, ids)
    failed_ids = [i for i in ids if counts.get(i, {}).get(TaskStatus.FAILED.value)]
    failures = _failures(conn, failed_ids) if failed_ids else {}
    return [
        _counted(record, counts.get(record.id, {}), failures.get(record.id, {}))
        if record.status in UNFINISHED
        else record
        for record in records
    ]


def journal_outcome(conn: Connection, apply_id: int) -> tuple[dict[str, int], dict[str, JSON]]:
    """What the journal of ``apply_id`` says it came to, read in two queries (never its every
    task): how many tasks have each status, and the recorded error of each task that has one,
    in plan order (what ``finish`` stores)."""
    query = (
        select(apply_tasks.c.resource, apply_tasks.c.error)
        .where(apply_tasks.c.apply_id == apply_id, apply_tasks.c.error.is_not(None))
        .order_by(apply_tasks.c.position)
    )
    errors = {str(resource): rows.load(error) for resource, error in conn.execute(query)}
    return _counts(conn, [apply_id]).get(apply_id, {}), errors


def _counts(conn: Connection, ids: list[int]) -> dict[int, dict[str, int]]:
    """Apply id -> task status -> how many of its tasks have it."""
    query = (
        select(apply_tasks.c.apply_id, apply_tasks.c.status, func.count())
        .where(apply_tasks.c.apply_id.in_(ids))
        .group_by(apply_tasks.c.apply_id, apply_tasks.c.status)
    )
    found: dict[int, dict[str, int]] = {}
    for apply_id, status, count in conn.execute(query):
        found.setdefault(int(apply_id), {})[str(status)] = int(count)
    return found


def _failures(conn: Connection, ids: list[int]) -> dict[int, dict[str, JSON]]:
    """Apply id -> failed resource -> its recorded error."""
    query = select(apply_tasks.c.apply_id, apply_tasks.c.resource, apply_tasks.c.error).where(
        apply_tasks.c.apply_id.in_(ids),
        apply_tasks.c.status == TaskStatus.FAILED.value,
        apply_tasks.c.error.is_not(None),
    )
    found: dict[int, dict[str, JSON]] = {}
    for apply_id, resource, error in conn.execute(query):
        found.setdefault(int(apply_id), {})[str(resource)] = rows.load(error)
    return found


def _counted(record: ApplyRecord, counts: dict[str, int], failures: dict[str, JSON]) -> ApplyRecord:
    return dataclasses.replace(
        record,
        succeeded=counts.get(TaskStatus.DONE.value, 0),
        failed=counts.get(TaskStatus.FAILED.value, 0),
        skipped=counts.get(TaskStatus.SKIPPED.value, 0),
        failures=failures,
    )
