"""Commit rows to and from the JSON body the hash covers, without :class:`Commit` objects.

``verify``, ``export`` and ``import`` walk every commit of a log (a million
and more), and what they need of each is its body (:class:`CommitBody`: what
the hash covers, what an export line holds, what replay reads), not a
``Commit``. Building one per row and then its body again cost more than the
hashing; these give the body in one step, exactly as ``Commit.body()`` of
:func:`retrograde.storage.sql.rows.commit_from_tuple`'s commit would be (the
same values, the same key order, the same errors on a damaged row), and a
row from a body exactly as :func:`retrograde.storage.sql.rows.commit_row`
writes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from retrograde.model.change import ActionName, reverse_diff
from retrograde.model.commit import CommitBody
from retrograde.model.jsonvalue import Raw
from retrograde.storage.sql import commit_payload
from retrograde.storage.sql.json_text import dump, load

_ACTIONS = {action.value: action.value for action in ActionName}


def body_from_tuple(row: Sequence[Any]) -> tuple[CommitBody, str]:
    """The body and hash of a row of ``select(commits)`` (values in ``rows.COMMIT_COLUMNS``
    order).

    A damaged row raises what decoding it into a ``Commit`` raises (ValueError,
    KeyError, TypeError, AttributeError, IndexError).
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
    action_value = _ACTIONS.get(action) or ActionName(action).value
    rev_number, version_number = int(rev), int(version)
    body: dict[str, Any] = {  # in the order of an export line (lines.body_line)
        "apply_id": apply_id,
        "principal": principal,
        "message": message,
        "type": type_,
        "version": version_number,
        "action": action_value,
        "reverts": list(tuple(load(reverts))) if reverts is not None else [],
        "timestamp": timestamp,
        "rev": rev_number,
        "resource": resource,
        "connections": _connections(connections),
        "tags": _sides(tags or {}),
        "diff": diff,
        "reverse": reverse_diff(diff),
    }
    moved = commit_payload.moved_from(payload)
    if moved is not None:
        body["from"] = moved
    return cast(CommitBody, body), bytes(stored_hash).hex()


def body_row(body: CommitBody, hash_: str) -> dict[str, Any]:
    """The row of the commit with ``body`` and ``hash_``: ``reverse`` left out (it is
    ``reverse_diff(diff)``), diff, connections and tags packed into one JSON column (see
    :mod:`retrograde.storage.sql.commit_payload`), the hash kept as its 32 bytes."""
    payload = commit_payload.pack(body["diff"], body["connections"], body["tags"], body.get("from"))
    reverts = body["reverts"]
    return {
        "rev": body["rev"],
        "apply_id": body["apply_id"],
        "resource": body["resource"],
        "action": body["action"],
        "type": body["type"],
        "version": body["version"],
        "principal": body["principal"],
        "timestamp": body["timestamp"],
        "message": body["message"],
        "reverts": dump(reverts) if reverts else None,
        "hash": bytes.fromhex(hash_),
        "payload": dump(payload),
    }


def _connections(data: Mapping[str, Raw]) -> dict[str, Any]:
    """``Commit.connections_json()`` of the commit decoded from these stored connections."""
    out = _sides(data or {})
    consumers = (data or {}).get("consumers")
    if consumers:
        out["consumers"] = {name: dict(slots) for name, slots in consumers.items()}
    return out


def _sides(data: Mapping[str, Raw]) -> dict[str, Any]:
    """``Sides.from_json(data).to_json()``: before and after, each a dict or None (a dict
    as it is: a copy would be equal)."""
    before, after = data.get("before"), data.get("after")
    return {
        "before": before if before is None or type(before) is dict else dict(before),
        "after": after if after is None or type(after) is dict else dict(after),
    }
