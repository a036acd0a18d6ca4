"""Reversal: the state that undoing commits, or going back to a revision, leads to.

Reverting is data, not a second code path: the functions here compute a
*desired state* (committed state with some commits undone, or with some
resources as they were at a past revision), let values flow through
connections again with :func:`~retrograde.planning.propagation.propagate`, and
return the difference as ordinary :class:`Change` values for the normal
planner and apply. Nothing here rewrites history; the commits that carry out a
revert name what they undo in ``reverts``.

Commits are undone newest first, each against the state the newer ones left
(so reverting a whole apply walks it backwards). Undoing a commit expects the
resource to still be as the commit left it; when it is not, that is a
:class:`ConflictError` naming resource, input, expected and current value,
raised before anything is staged (``force`` undoes anyway where the result is
still well defined). Undoing a removal re-creates the resource with its
inputs, tags and the connections it received, then gives back the connections
other resources took from it (the commit's ``consumers``) to
those that still exist, a list element back at its position.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TypeVar

from retrograde.errors import ConflictError, UnknownReferenceError
from retrograde.model.change import CREATING, ActionName, Change
from retrograde.model.commit import Commit, Sides
from retrograde.model.jsonvalue import JSON, Raw, canonical, same_json
from retrograde.model.secrets import MASK
from retrograde.model.state import (
    Connections,
    ConnectionSlot,
    ResourceState,
    State,
    iter_refs,
    parse_ref,
)
from retrograde.model.types import TypeKey
from retrograde.planning.diffing import stage_changes
from retrograde.planning.moves import applicable_moves, apply_move, consumers_of, inverse_moves
from retrograde.planning.propagation import propagate
from retrograde.planning.replay import apply_diff

ABSENT = "absent"
"""How a message shows an input a resource does not have."""

V = TypeVar("V")

SecretInputs = Callable[[str], Collection[str]]
"""Type name -> its secret input names; conflict messages mask their values."""


def _no_secrets(type_name: str) -> Collection[str]:
    return ()


def revert_changes(
    committed: State,
    commits: Iterable[Commit],
    *,
    force: bool = False,
    secrets: SecretInputs = _no_secrets,
    kinds_before: Mapping[int, TypeKey] | None = None,
) -> dict[str, Change]:
    """The staged log that undoes ``commits`` (any order, newest undone first).

    Changes of the reverted commits' resources carry ``reverts`` (the revisions
    of that resource being undone); consumers reached only through connections
    are staged too, without ``reverts``. Raises :class:`ConflictError` when a
    commit no longer matches (unless ``force``), when a resource that a revert
    removes is connected from by another, or when a re-created resource's
    producer no longer exists. ``kinds_before`` gives, by revision, the type
    and version a resource had before an update or migration commit, so that
    undoing one that raised the version sets it back.
    """
    ordered = sorted(commits, key=lambda commit: commit.rev, reverse=True)
    desired = revert_state(
        committed, ordered, force=force, secrets=secrets, kinds_before=kinds_before
    )
    moves = inverse_moves(ordered)
    base, _ = applicable_moves(committed, moves)
    changes = stage_changes(base, desired)
    return with_reverts(changes, ordered, {move.old: move.new for move in moves})


def revert_state(
    committed: State,
    commits: Sequence[Commit],
    *,
    force: bool = False,
    secrets: SecretInputs = _no_secrets,
    kinds_before: Mapping[int, TypeKey] | None = None,
) -> dict[str, ResourceState]:
    """``committed`` with ``commits`` (newest first) undone and values propagated again."""
    work = dict(committed)
    kinds = kinds_before or {}
    for commit in commits:
        undo_commit(work, commit, force=force, secrets=secrets, kind=kinds.get(commit.rev))
    for commit in reversed(commits):
        if commit.action is ActionName.REMOVE:
            restore_consumers(work, commit)
    removed_by = {c.resource: c.rev for c in commits if c.action in CREATING}
    check_connected(work, removed_by)
    return propagated(work)


def with_reverts(
    changes: Mapping[str, Change],
    commits: Iterable[Commit],
    renamed: Mapping[str, str] | None = None,
) -> dict[str, Change]:
    """``changes`` with ``reverts`` set to the revisions of each resource's undone commits
    (``renamed``: names the undone moves give back, so a commit counts for the name it
    has again)."""
    revs: dict[str, list[int]] = {}
    for commit in commits:
        if commit.action is ActionName.MOVE:
            continue  # written as a move back, not staged
        name = (renamed or {}).get(commit.resource, commit.resource)
        revs.setdefault(name, []).append(commit.rev)
    return {
        name: dataclasses.replace(change, reverts=tuple(sorted(revs[name])))
        if name in revs
        else change
        for name, change in changes.items()
    }


def undo_commit(
    work: dict[str, ResourceState],
    commit: Commit,
    *,
    force: bool = False,
    secrets: SecretInputs = _no_secrets,
    kind: TypeKey | None = None,
) -> None:
    """Undo one commit in ``work`` in place, after checking it still matches.

    ``kind`` is the resource's type and version before an update or migration.
    """
    if commit.action is ActionName.MOVE:
        undo_move(work, commit, force=force)
        return
    current = work.get(commit.resource)
    if commit.action is ActionName.REMOVE:
        if current is not None and not force:
            raise _conflict(commit, f"{commit.resource!r} exists again", exists=True)
        work[commit.resource] = recreated(commit)
        return
    if current is None:
        if commit.action in CREATING and force:
            return
        raise _conflict(commit, f"{commit.resource!r} no longer exists", exists=False)
    if not force:
        check_matches(commit, current, secrets)
    if commit.action in CREATING:
        del work[commit.resource]
    else:
        work[commit.resource] = rewound(current, commit, kind)


def undo_move(work: dict[str, ResourceState], commit: Commit, *, force: bool = False) -> None:
    """Move the resource back to its former name; the connections to it follow again.

    A conflict when the resource no longer exists or its former name is taken
    (with ``force``, such a move is skipped).
    """
    old, current = commit.moved_from, work.get(commit.resource)
    if old is None or current is None or old in work:
        if force:
            return
        problem = (
            f"{commit.resource!r} no longer exists" if current is None else f"{old!r} exists again"
        )
        raise _conflict(commit, problem, exists=current is not None)
    apply_move(work, commit.resource, old, current, consumers_of(work, commit.resource))


def check_matches(
    commit: Commit, current: ResourceState, secrets: SecretInputs = _no_secrets
) -> None:
    """Raise :class:`ConflictError` unless ``current`` is still as ``commit`` left it.

    Every input the commit changed must hold the value it was changed to (or
    still be absent), and every connection it changed must still be the one it
    set.
    """
    hidden = secrets(current.type)
    for name, entry in commit.diff.items():
        if not _holds(current.inputs, name, entry):
            raise _value_conflict(commit, name, current, name in hidden)
    after = commit.connections.after or {}
    for name in commit.connections.changed():
        if current.connections.get(name) != after.get(name):
            raise _connection_conflict(commit, name, after.get(name), current.connections.get(name))


def _holds(inputs: Mapping[str, JSON], name: str, entry: Mapping[str, JSON]) -> bool:
    """Whether ``inputs`` hold what the diff ``entry`` changed ``name`` to."""
    if entry.get("absent") == "to":
        return name not in inputs
    return name in inputs and same_json(inputs[name], entry["to"])


def recreated(commit: Commit) -> ResourceState:
    """The resource a removal commit removed: inputs, connections received, tags, type."""
    return ResourceState(
        type=commit.type,
        version=commit.version,
        inputs=apply_diff({}, commit.reverse),
        connections=dict(commit.connections.before or {}),
        tags=dict(commit.tags.before or {}),
    )


def rewound(current: ResourceState, commit: Commit, kind: TypeKey | None = None) -> ResourceState:
    """``current`` with what an update (or migration) commit changed set back.

    Only what the commit changed is set back: the inputs of its diff, the
    connections and tags whose before and after differ, and the type and
    version (to ``kind``, what they were before) if they are still the ones
    the commit left.
    """
    type_name, version = current.type, current.version
    if kind is not None and (type_name, version) == (commit.type, commit.version):
        type_name, version = kind
    return ResourceState(
        type=type_name,
        version=version,
        inputs=apply_diff(current.inputs, commit.reverse),
        connections=_set_back(current.connections, commit.connections),
        tags=_set_back(current.tags, commit.tags),
    )


def _set_back(current: Mapping[str, V], sides: Sides[Raw]) -> dict[str, V]:
    """``current`` with every key whose ``before`` and ``after`` differ set to ``before``."""
    before: Mapping[str, V] = sides.before or {}
    result = dict(current)
    for key in sides.changed():
        if key in before:
            result[key] = before[key]
        else:
            result.pop(key, None)
    return result


def restore_consumers(work: dict[str, ResourceState], commit: Commit) -> None:
    """Give back the connections a removal took away, to consumers that still exist."""
    taken: Mapping[str, Connections] = commit.consumers
    for consumer, slots in sorted(taken.items()):
        state = work.get(consumer)
        if state is not None:
            work[consumer] = reconnected(state, commit.resource, slots)


def reconnected(state: ResourceState, producer: str, slots: Connections) -> ResourceState:
    """``state`` connected again to ``producer`` as ``slots`` (the consumer's old slots) say.

    A whole-input connection is set back; in a list input, each element that
    was connected to ``producer`` and is not there now is inserted at its old
    position (or at the end of a shorter list). Inputs the consumer no longer
    has, and list inputs now connected as a whole, are left alone.
    """
    connections = dict(state.connections)
    inputs = dict(state.inputs)
    for name, old in slots.items():
        if name not in inputs:
            continue
        if isinstance(old, str):
            connections[name] = old
            continue
        current = connections.get(name)
        value = inputs[name]
        if isinstance(current, str) or not isinstance(value, list):
            continue
        slot: list[str | None] = list(current) if current is not None else [None] * len(value)
        connections[name], inputs[name] = _reinserted(slot, list(value), old, producer)
    if connections == state.connections:
        return state
    return dataclasses.replace(state, inputs=inputs, connections=connections)


def _reinserted(
    slot: list[str | None], value: list[JSON], old: Sequence[str | None], producer: str
) -> tuple[list[str | None], list[JSON]]:
    """``slot`` and ``value`` with ``producer``'s old elements back at their positions."""
    for index, ref in enumerate(old):
        if ref is None or parse_ref(ref)[0] != producer or ref in slot:
            continue
        position = min(index, len(slot))
        slot.insert(position, ref)
        value.insert(position, None)
    return slot, value


def check_connected(work: State, removed_by: Mapping[str, int]) -> None:
    """Raise :class:`ConflictError` if a resource in ``work`` is connected from a missing one.

    ``removed_by`` maps resources that undoing a ``run`` removes to that
    revision, so the message can say which revert is in the way.
    """
    for name in sorted(work):
        for input_name, _, producer, producer_input in iter_refs(work[name].connections):
            if producer in work:
                continue
            ref = f"{producer}.{producer_input}"
            if producer in removed_by:
                problem = (
                    f"cannot revert rev {removed_by[producer]} (run of {producer!r}):"
                    f" {name}.{input_name} is connected to ${{{ref}}} now"
                )
            else:
                problem = (
                    f"{name}.{input_name} would be connected to ${{{ref}}},"
                    f" but {producer!r} does not exist now"
                )
            raise ConflictError(problem, resource=name, input=input_name, expected=ref)


def propagated(work: State) -> dict[str, ResourceState]:
    """``propagate(work)``, a dangling reference reported as a :class:`ConflictError`."""
    try:
        return propagate(work)
    except UnknownReferenceError as error:
        raise ConflictError(error.problem, resource=error.resource, input=error.input) from error


def rollback_state(
    current: State, past: State, selected: Collection[str] | None = None
) -> dict[str, ResourceState]:
    """``current`` with the ``selected`` resources (all when None) as they were in ``past``.

    A selected resource absent from ``past`` is removed, one absent from
    ``current`` re-created; values flow through connections again. Raises
    :class:`ConflictError` when a resource left as it is now is connected from
    one the rollback removes, or a restored one from one that does not exist.
    """
    if selected is None:
        desired = dict(past)
    else:
        desired = dict(current)
        for name in selected:
            if name in past:
                desired[name] = past[name]
            else:
                desired.pop(name, None)
    check_connected(desired, {})
    return propagated(desired)


def _conflict(commit: Commit, problem: str, *, exists: bool) -> ConflictError:
    return ConflictError(
        f"cannot revert rev {commit.rev} ({commit.action.value} of {commit.resource!r}): {problem}",
        resource=commit.resource,
        expected=ABSENT if exists else "present",
        current="present" if exists else ABSENT,
    )


def _value_conflict(
    commit: Commit, name: str, current: ResourceState, secret: bool
) -> ConflictError:
    entry = commit.diff[name]
    expected = ABSENT if entry.get("absent") == "to" else _shown(entry["to"], secret)
    now = _shown(current.inputs[name], secret) if name in current.inputs else ABSENT
    return ConflictError(
        f"cannot revert rev {commit.rev} ({commit.action.value} of {commit.resource!r}):"
        f" {commit.resource}.{name} is {now} now, the revert expects {expected}",
        resource=commit.resource,
        input=name,
        expected=MASK if secret else entry["to"],
        current=MASK if secret else current.inputs.get(name),
    )


def _connection_conflict(
    commit: Commit, name: str, expected: ConnectionSlot | None, current: ConnectionSlot | None
) -> ConflictError:
    return ConflictError(
        f"cannot revert rev {commit.rev} ({commit.action.value} of {commit.resource!r}):"
        f" {commit.resource}.{name} is connected from {_ref(current)} now,"
        f" the revert expects {_ref(expected)}",
        resource=commit.resource,
        input=name,
        expected=expected,
        current=current,
    )


def _shown(value: JSON, secret: bool) -> str:
    """A value for a one-line message: canonical JSON, or the mask for a secret."""
    return MASK if secret else canonical(value)


def _ref(slot: ConnectionSlot | None) -> str:
    """A connection slot for a message: ``${a.b}``, a list of them, or ``no connection``."""
    if slot is None:
        return "no connection"
    if isinstance(slot, str):
        return f"${{{slot}}}"
    return "[" + ", ".join(f"${{{ref}}}" if ref else "literal" for ref in slot) + "]"
