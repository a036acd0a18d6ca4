"""JSON views of results, with secret inputs masked: the documented ``--json`` shapes.

Every adapter (CLI, later HTTP) renders from these so that no output can show a
secret: any input declared ``secret`` in any stored version of its type prints
as ``***``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import orjson

from retrograde.memory import gc_paused
from retrograde.model.change import Change
from retrograde.model.commit import Commit, CommitJSON
from retrograde.model.jsonvalue import JSON, compact_bytes, parse
from retrograde.model.plan import PlannedMove
from retrograde.model.secrets import mask_diff, mask_inputs
from retrograde.model.state import ResourceState, ResourceStateJSON, StateText
from retrograde.model.types import ResourceType, TypeKey


class Secrets:
    """Which inputs of which type are secret (union over the type's stored versions)."""

    def __init__(self, types: Mapping[TypeKey, ResourceType]) -> None:
        self._by_type: dict[str, frozenset[str]] = {}
        for (name, _), rtype in types.items():
            self._by_type[name] = self._by_type.get(name, frozenset()) | rtype.secrets

    def of(self, type_name: str) -> frozenset[str]:
        return self._by_type.get(type_name, frozenset())


class ChangeView(TypedDict):
    """One resource of ``diff --json``."""

    action: str
    diff: dict[str, dict[str, JSON]]


class ChangesView(TypedDict):
    """``diff --json``."""

    changes: dict[str, ChangeView]
    moves: NotRequired[list[dict[str, str]]]
    """Present when renames are staged (``plan --json``'s ``moves``), committed first."""


class StageView(ChangesView):
    """``stage --json``: the staged changes and the ``migrate`` commits written first."""

    migrations: list[CommitJSON]


class StateView(TypedDict):
    """``state --json``."""

    rev: int
    resources: dict[str, ResourceStateJSON]


def change_json(change: Change, secrets: Secrets) -> ChangeView:
    return {
        "action": change.action.value,
        "diff": mask_diff(change.diff, secrets.of(change.type_state.type)),
    }


def changes_json(
    changes: Mapping[str, Change], secrets: Secrets, moves: Sequence[Change] = ()
) -> ChangesView:
    """``diff --json``: the value changes, and the staged ``moves`` (in order) when any."""
    view: ChangesView = {
        "changes": {name: change_json(c, secrets) for name, c in sorted(changes.items())}
    }
    if moves:
        view["moves"] = [PlannedMove(m.resource, str(m.moved_from)).to_json() for m in moves]
    return view


def commit_json(commit: Commit, secrets: Secrets) -> CommitJSON:
    """One COMMIT of ``log --json`` / ``show --json``: the diff of the values it changed (a
    move's re-sealed secrets are the same values, so its diff shows empty)."""
    hidden = secrets.of(commit.type)
    changed = commit.changed_inputs()
    return {
        **commit.to_json(),
        "diff": mask_diff({name: commit.diff[name] for name in changed}, hidden),
        "reverse": mask_diff({name: commit.reverse[name] for name in changed}, hidden),
    }


def state_json(rev: int, resources: Mapping[str, ResourceState], secrets: Secrets) -> StateView:
    """``state --json``."""
    return {
        "rev": rev,
        "resources": {
            name: {
                **rs.to_json(),
                "inputs": mask_inputs(rs.inputs, secrets.of(rs.type)),
            }
            for name, rs in resources.items()
        },
    }


def state_json_bytes(rev: int, texts: Sequence[StateText], secrets: Secrets) -> bytes:
    """:func:`state_json` of stored texts, as compact JSON, in one pass: each resource's
    connections and tags, and its inputs unless its type has secret inputs, are copied as
    stored (no decoding); only the inputs of such types are decoded, to mask them."""
    fragment = orjson.Fragment
    with gc_paused():
        resources = {}
        for name, rtype, version, inputs, connections, tags in texts:
            hidden = secrets.of(rtype)
            shown = compact_bytes(mask_inputs(parse(inputs.encode()), hidden)) if hidden else inputs
            resources[name] = {
                "type": rtype,
                "version": version,
                "inputs": fragment(shown),
                "connections": fragment(connections),
                "tags": fragment(tags),
            }
        return orjson.dumps({"rev": rev, "resources": resources})
