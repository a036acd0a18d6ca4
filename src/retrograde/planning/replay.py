"""Replaying commits forward: the state a sequence of commits leaves behind.

Used to rebuild committed state from the log (import, verify) and to answer
"state at revision R" from a snapshot plus the commits after it. Pure and
linear in the commits replayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping

from retrograde.errors import CorruptLogError
from retrograde.model.change import CREATING, ActionName, Diff
from retrograde.model.commit import Commit
from retrograde.model.jsonvalue import JSON
from retrograde.model.state import ResourceState
from retrograde.planning.moves import apply_move


def replay(
    commits: Iterable[Commit], state: Mapping[str, ResourceState] | None = None
) -> dict[str, ResourceState]:
    """The state after applying ``commits`` (in revision order) on top of ``state``."""
    result = dict(state or {})
    for commit in commits:
        replay_commit(result, commit)
    return result


def replay_commit(state: MutableMapping[str, ResourceState], commit: Commit) -> None:
    """Apply one commit to ``state`` in place.

    Raises :class:`CorruptLogError` when the commit does not fit the state
    (an update or removal of a resource that does not exist, a run of one that does).
    """
    if commit.action is ActionName.MOVE:
        _replay_move(state, commit)
        return
    current = state.get(commit.resource)
    if commit.action is ActionName.REMOVE:
        if current is None:
            raise CorruptLogError(
                f"rev {commit.rev} removes {commit.resource!r}, which does not exist",
                rev=commit.rev,
                resource=commit.resource,
            )
        del state[commit.resource]
        return
    if (commit.action in CREATING) != (current is None):
        raise CorruptLogError(
            f"rev {commit.rev} {commit.action.value}s {commit.resource!r}, which "
            + ("already exists" if current is not None else "does not exist"),
            rev=commit.rev,
            resource=commit.resource,
        )
    state[commit.resource] = ResourceState(
        type=commit.type,
        version=commit.version,
        inputs=apply_diff(current.inputs if current else {}, commit.diff),
        connections=commit.connections.after or {},
        tags=commit.tags.after or {},
    )


def _replay_move(state: MutableMapping[str, ResourceState], commit: Commit) -> None:
    """A move: the former name's state under the new name; its consumers follow."""
    old = commit.moved_from
    current = state.get(old) if old is not None else None
    if old is None or current is None or commit.resource in state:
        problem = (
            "names no former resource"
            if old is None
            else f"moves {old!r}, which does not exist"
            if current is None
            else f"moves onto {commit.resource!r}, which already exists"
        )
        raise CorruptLogError(
            f"rev {commit.rev} {problem}", rev=commit.rev, resource=commit.resource
        )
    after = ResourceState(
        type=commit.type,
        version=commit.version,
        inputs=apply_diff(current.inputs, commit.diff),
        connections=commit.connections.after or {},
        tags=commit.tags.after or {},
    )
    apply_move(state, old, commit.resource, after, commit.consumers)


def apply_diff(inputs: Mapping[str, JSON], diff: Diff) -> dict[str, JSON]:
    """``inputs`` with every entry of ``diff`` applied (``absent: "to"`` drops the input)."""
    result = dict(inputs)
    for name, entry in diff.items():
        if entry.get("absent") == "to":
            result.pop(name, None)
        else:
            result[name] = entry["to"]
    return result
