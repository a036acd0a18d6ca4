"""What an import compares with the chain, and what it takes from the chain alone.

An export carries a record (type definition, apply, checkpoint) as its own
line only where the commits need it; its chain entries carry every record.
Lines and entries must agree (:func:`retrograde.history.chain.record_problems`);
a record that only the chain carries (an apply that made no commit) is built
from its entries, so the imported store holds every chained record.
"""

from __future__ import annotations

from typing import Any

from retrograde.history.chain import ChainAudit
from retrograde.model.apply import ApplyStatus
from retrograde.model.chain import ChainEntry, EntryKind, begin_data, end_data, type_key
from retrograde.model.jsonvalue import JSONObject
from retrograde.model.types import ResourceType, TypeKey

UNFINISHED = (ApplyStatus.RUNNING.value, ApplyStatus.INTERRUPTED.value)


def check_entry_fields(entry: ChainEntry) -> None:
    """The fields of an entry line, of the kinds the store keeps (TypeError, ValueError)."""
    for number in (entry.seq, entry.after_rev):
        if type(number) is not int or not 0 <= number < 2**63:
            raise ValueError("seq and after_rev must be integers of 64 bits")
    if not all(type(text) is str for text in (entry.kind, entry.key, entry.hash)):
        raise TypeError("entry, key and hash must be text")
    if type(entry.data) is not dict:
        raise TypeError("data must be an object")


def file_records(
    types: dict[str, JSONObject],
    applies: dict[int, dict[str, Any]],
    checkpoints: dict[str, dict[str, Any]],
) -> dict[str, dict[str, JSONObject]]:
    """The records an export file's lines hold, shaped as their entries' data."""
    found: dict[str, dict[str, JSONObject]] = {
        EntryKind.TYPE: dict(types),
        EntryKind.CHECKPOINT: {name: dict(row) for name, row in checkpoints.items()},
        EntryKind.APPLY_BEGIN: {},
        EntryKind.APPLY_END: {},
    }
    for apply_id, row in applies.items():
        found[EntryKind.APPLY_BEGIN][str(apply_id)] = begin_data(row)
        if row["status"] not in UNFINISHED:
            found[EntryKind.APPLY_END][str(apply_id)] = end_data(row)
    return found


def add_chained_records(
    audit: ChainAudit,
    types: dict[TypeKey, ResourceType],
    applies: dict[int, dict[str, Any]],
    checkpoints: dict[str, dict[str, Any]],
) -> None:
    """Add the records only the chain carries (their latest entries) to what is imported."""
    chained = audit.chained
    for entry in chained.get(EntryKind.TYPE, {}).values():
        parsed = ResourceType.from_json(entry.data)
        if type_key(parsed.name, parsed.version) != entry.key:
            raise ValueError(f"{entry.describe()}: its definition is of another type")
        types.setdefault((parsed.name, parsed.version), parsed)
    for name, entry in chained.get(EntryKind.CHECKPOINT, {}).items():
        checkpoints.setdefault(name, dict(entry.data))
    ends = chained.get(EntryKind.APPLY_END, {})
    for key, begin in chained.get(EntryKind.APPLY_BEGIN, {}).items():
        apply_id = int(key)
        if apply_id in applies:
            continue
        end = ends[key].data if key in ends else _unfinished(apply_id)
        applies[apply_id] = {**begin.data, **end}


def _unfinished(apply_id: int) -> JSONObject:
    """The outcome of an apply the chain never saw end: failed, as import ends it."""
    return {
        "id": apply_id,
        "status": ApplyStatus.FAILED.value,
        "ended_at": None,
        "succeeded": 0,
        "failed": 0,
        "skipped": 0,
        "failures": {},
    }
