"""The compact JSON a commit row keeps in ``payload``: diff, connections and tags.

The commit log is the one table that grows without bound, so its payload is
packed, losslessly:

- ``d``: the diff, each entry ``{"from": X, "to": Y}`` as the pair ``[X, Y]``
  (``[X, Y, "from"|"to"]`` when it carries ``absent``); any other entry shape
  is kept as it is.
- ``m``: a ``move`` commit's former name (absent on every other commit).
- ``c`` and ``t``: connections and tags. Most commits are updates that leave
  both unchanged, so ``{"before": S, "after": S}`` with equal sides is kept as
  the one-element list ``[S]``; any other mapping is kept as it is.

Equality is canonical JSON equality (``1``, ``1.0`` and ``true`` differ), and
the hash covers canonical JSON, so a commit read back hashes exactly as the one
written. :func:`unpack` also reads the unpacked form of schema revision 0001
(``{"diff", "connections", "tags"}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from retrograde.model.change import Diff
from retrograde.model.jsonvalue import JSON, Raw, same_json


def pack(
    diff: Diff,
    connections: Mapping[str, object],
    tags: Mapping[str, object],
    moved_from: str | None = None,
) -> dict[str, Any]:
    """The packed payload of a commit (see the module docstring)."""
    packed = {
        "d": {name: _pack_entry(entry) for name, entry in diff.items()},
        "c": _pack_sides(connections),
        "t": _pack_sides(tags),
    }
    if moved_from is not None:
        packed["m"] = moved_from
    return packed


def moved_from(payload: Mapping[str, Any]) -> str | None:
    """A move commit's former name, from its payload (None for every other commit)."""
    found = payload.get("m")
    return found if isinstance(found, str) else None


def unpack(payload: Mapping[str, Raw]) -> tuple[Diff, Mapping[str, Raw], Mapping[str, Raw]]:
    """``(diff, connections, tags)`` from a packed (or revision 0001) payload."""
    if "d" not in payload:
        return payload["diff"], payload["connections"], payload["tags"]
    diff = {
        name: {"from": entry[0], "to": entry[1]}
        if type(entry) is list and len(entry) == 2
        else _unpack_entry(entry)
        for name, entry in payload["d"].items()
    }
    return diff, _unpack_sides(payload["c"]), _unpack_sides(payload["t"])


def diff_names(payload: Mapping[str, Any]) -> list[str]:
    """The input names a payload's diff touches, without unpacking the rest."""
    return list(payload["d"] if "d" in payload else payload["diff"])


def _pack_entry(entry: Mapping[str, JSON]) -> JSON:
    keys = list(entry)
    if keys == ["from", "to"]:
        return [entry["from"], entry["to"]]
    if keys == ["from", "to", "absent"] and entry["absent"] in ("from", "to"):
        return [entry["from"], entry["to"], entry["absent"]]
    return dict(entry)


def _unpack_entry(packed: Raw) -> dict[str, JSON]:
    if not isinstance(packed, list):
        return dict(packed)
    entry: dict[str, JSON] = {"from": packed[0], "to": packed[1]}
    if len(packed) == 3:
        entry["absent"] = packed[2]
    return entry


def _pack_sides(sides: Mapping[str, object]) -> object:
    if list(sides) == ["before", "after"] and same_json(sides["before"], sides["after"]):
        return [sides["before"]]
    return dict(sides)


def _unpack_sides(packed: Raw) -> dict[str, JSON]:
    if isinstance(packed, list):
        return {"before": packed[0], "after": packed[0]}
    return dict(packed)
