"""Replaying commits forward: the state a sequence of commits leaves behind.

Used to rebuild committed state from the log (import, verify) and to answer
"state at revision R" from a snapshot plus the commits after it. Pure and
linear in the commits replayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping

from retrograde.errors import CorruptLogError
from retrograde.model.change import CREATING, ActionName, Diff
from retrograde.model.commit import Commit, CommitBody
from retrograde.model.jsonvalue import JSON
from retrograde.model.state import ConnectionSlot, ResourceState
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
    _replay(
        state,
        (commit.rev, commit.action, commit.resource, commit.moved_from),
        commit.type,
        commit.version,
        commit.diff,
        commit.connections.after,
        commit.tags.after,
        commit.consumers,
    )


def replay_body(state: MutableMapping[str, ResourceState], body: CommitBody) -> None:
    """:func:`replay_commit` of the commit with this body (a walk over the whole log reads
    bodies, not commits); the same errors."""
    connections = body["connections"]
    action = _ACTIONS.get(body["action"]) or ActionName(body["action"])
    _replay(
        state,
        (body["rev"], action, body["resource"], body.get("from")),
        body["type"],
        body["version"],
        body["diff"],
        connections["after"],
        body["tags"]["after"],
        connections.get("consumers") or {},
    )


_ACTIONS = {action.value: action for action in ActionName}

_Step = tuple[int, ActionName, str, str | None]
"""Which commit does what to which resource: ``(rev, action, resource, moved from)``."""


def _replay(
    state: MutableMapping[str, ResourceState],
    step: _Step,
    type_: str,
    version: int,
    diff: Diff,
    connections: Mapping[str, ConnectionSlot] | None,
    tags: Mapping[str, str] | None,
    consumers: Mapping[str, object],
) -> None:
    rev, action, resource, moved_from = step
    if action is ActionName.MOVE:
        former = _moved(state, rev, resource, moved_from)
        after = ResourceState(
            type_, version, apply_diff(former.inputs, diff), connections or {}, tags or {}
        )
        apply_move(state, str(moved_from), resource, after, consumers)
        return
    current = state.get(resource)
    if action is ActionName.REMOVE:
        if current is None:
            raise CorruptLogError(
                f"rev {rev} removes {resource!r}, which does not exist", rev=rev, resource=resource
            )
        del state[resource]
        return
    if (action in CREATING) != (current is None):
        raise CorruptLogError(
            f"rev {rev} {action.value}s {resource!r}, which "
            + ("already exists" if current is not None else "does not exist"),
            rev=rev,
            resource=resource,
        )
    state[resource] = ResourceState(
        type_,
        version,
        apply_diff(current.inputs if current else {}, diff),
        connections or {},
        tags or {},
    )


def _moved(
    state: Mapping[str, ResourceState], rev: int, resource: str, old: str | None
) -> ResourceState:
    """The state a move takes from its former name (which must exist, its new one not)."""
    current = state.get(old) if old is not None else None
    if old is None or current is None or resource in state:
        problem = (
            "names no former resource"
            if old is None
            else f"moves {old!r}, which does not exist"
            if current is None
            else f"moves onto {resource!r}, which already exists"
        )
        raise CorruptLogError(f"rev {rev} {problem}", rev=rev, resource=resource)
    return current


def apply_diff(inputs: Mapping[str, JSON], diff: Diff) -> dict[str, JSON]:
    """``inputs`` with every entry of ``diff`` applied (``absent: "to"`` drops the input)."""
    result = dict(inputs)
    for name, entry in diff.items():
        if entry.get("absent") == "to":
            result.pop(name, None)
        else:
            result[name] = entry["to"]
    return result
