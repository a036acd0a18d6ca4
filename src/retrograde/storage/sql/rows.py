"""Model values to table rows and back.

Every JSON value is stored as compact JSON text
(:mod:`retrograde.storage.sql.json_text`), so a value read back is equal to
the value written. A commit's row is written from its body
(:mod:`retrograde.storage.sql.commit_bodies`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping

from retrograde.model.apply import ApplyKind, ApplyRecord, ApplyStatus
from retrograde.model.change import ActionName, Change, reverse_diff
from retrograde.model.commit import Commit, Sides
from retrograde.model.journal import JournalTask, TaskStatus
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType
from retrograde.storage.sql import commit_bodies, commit_payload
from retrograde.storage.sql.json_text import dump as dump
from retrograde.storage.sql.json_text import load as load

Row = dict[str, Any]
"""Parameters for one INSERT/UPDATE, by column name."""


def type_row(resource_type: ResourceType) -> Row:
    return {
        "name": resource_type.name,
        "version": resource_type.version,
        "definition": dump(resource_type.to_json()),
    }


def type_from_row(row: RowMapping) -> ResourceType:
    return _type_of(row["definition"])


@functools.lru_cache(maxsize=1024)
def _type_of(definition: str) -> ResourceType:
    """The type a stored definition describes, parsed once per text: every verb, and every
    cached server answer, reads the types (and a :class:`ResourceType` is immutable)."""
    return ResourceType.from_json(load(definition))


def state_row(name: str, state: ResourceState) -> Row:
    return {
        "name": name,
        "type": state.type,
        "version": state.version,
        "inputs": dump(dict(state.inputs)),
        "connections": dump(dict(state.connections)),
        "tags": dump(dict(state.tags)),
    }


def state_from_row(row: RowMapping) -> ResourceState:
    return ResourceState(
        type=row["type"],
        version=int(row["version"]),
        inputs=load(row["inputs"]),
        connections=load(row["connections"]),
        tags=load(row["tags"]),
    )


def staged_row(change: Change) -> Row:
    """The staged change, with the columns the journal needs split out of its JSON."""
    side = change.type_state
    return {
        "resource": change.resource,
        "action": change.action.value,
        "type": side.type,
        "version": side.version,
        "change": dump(change.to_json()),
    }


def staged_move_row(seq: int, move: Change) -> Row:
    """A staged ``move`` change, ``seq`` its place in the order the moves are committed."""
    assert move.moved_from is not None
    return {
        "seq": seq,
        "resource": move.resource,
        "moved_from": move.moved_from,
        "change": dump(move.to_json()),
    }


def change_from_row(row: RowMapping) -> Change:
    return Change.from_json(load(row["change"]))


def commit_row(commit: Commit) -> Row:
    """The commit as stored (see :func:`retrograde.storage.sql.commit_bodies.body_row`)."""
    return commit_bodies.body_row(commit.body(), commit.hash)


def hash_text(stored: bytes) -> str:
    """A commit hash as stored (32 bytes) in its printed form (64 hex digits)."""
    return bytes(stored).hex()


COMMIT_COLUMNS = (
    "rev",
    "apply_id",
    "resource",
    "action",
    "type",
    "version",
    "principal",
    "timestamp",
    "message",
    "reverts",
    "hash",
    "payload",
)
"""The columns of ``commits`` in table order: how :func:`commit_from_tuple` reads a row."""

_ACTIONS = {action.value: action for action in ActionName}


def commit_from_row(row: RowMapping) -> Commit:
    """The commit of a row read by column name (see :func:`commit_from_tuple`)."""
    return commit_from_tuple(tuple(row[name] for name in COMMIT_COLUMNS))


def commit_from_tuple(row: Sequence[Any]) -> Commit:
    """The commit of a row of ``select(commits)``, its values in :data:`COMMIT_COLUMNS` order.

    Positions rather than names: a long history decodes a million rows, and
    reading by name costs as much as the rest of the decoding.
    """
    (
        rev,
        apply_id,
        resource,
        action,
        type_,
        version,
        principal,
        timestamp,
        message,
        reverts,
        stored_hash,
        stored_payload,
    ) = row
    payload = load(stored_payload)
    diff, connections, tags = commit_payload.unpack(payload)
    return Commit(
        rev=int(rev),
        apply_id=apply_id,
        resource=resource,
        action=_ACTIONS.get(action) or ActionName(action),
        diff=diff,
        reverse=reverse_diff(diff),
        connections=Sides.from_json(connections),
        type=type_,
        version=int(version),
        principal=principal,
        timestamp=timestamp,
        message=message,
        reverts=tuple(load(reverts)) if reverts is not None else (),
        tags=Sides.from_json(tags),
        consumers=connections.get("consumers") or {},
        hash=bytes(stored_hash).hex(),
        moved_from=commit_payload.moved_from(payload),
    )


def apply_from_row(row: RowMapping) -> ApplyRecord:
    return ApplyRecord(
        id=int(row["id"]),
        principal=row["principal"],
        message=row["message"],
        status=ApplyStatus(row["status"]),
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        succeeded=int(row["succeeded"]),
        failed=int(row["failed"]),
        skipped=int(row["skipped"]),
        failures=load(row["failures"]),
        kind=ApplyKind(row["kind"]),
    )


def task_from_row(row: RowMapping) -> JournalTask:
    return JournalTask(
        resource=row["resource"],
        action=ActionName(row["action"]),
        type=row["type"],
        version=int(row["version"]),
        position=int(row["position"]),
        status=TaskStatus(row["status"]),
        attempts=int(row["attempts"]),
        error=load(row["error"]) if row["error"] is not None else None,
    )
