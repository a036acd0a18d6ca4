"""Renames: a resource takes a new name, and the connections to it follow. Pure.

A move is one ``move`` commit naming the resource after the move, with its
former name (``moved_from``) and the connections other resources took from
the former name (its ``consumers``, as a removal keeps them). No handler runs:
the world does not change, only the name under which it is recorded. Applying
a move to a state removes the former name, adds the new one with the same
inputs (secret values sealed again for the new name, which the caller does
through ``reseal``: the move's ``after`` and diff hold them), connections and
tags, and rewrites each consumer's ``${OLD.x}`` to
``${NEW.x}``. The same function serves committed state (the store), replay
(import, verify, state at a revision) and reversal.

A stack file's ``moved:`` entries are reconciled with committed state by
:func:`stack_moves`: an entry whose old name is committed and whose new name
is not is a move to make; old absent and new committed means it was done
already; both or neither committed is an error naming both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass

from retrograde.errors import StateError
from retrograde.model.change import ActionName, Change, Consumers
from retrograde.model.commit import Commit
from retrograde.model.state import Connections, ConnectionSlot, ResourceState, State, parse_ref
from retrograde.planning.diffing import taken_index

Reseal = Callable[[Change], Change]
"""What a caller does to each ``move`` change before it is applied to the work state (the
store seals secret values again under the new name); by default nothing."""


def _as_is(change: Change) -> Change:
    return change


@dataclass(frozen=True, slots=True)
class Move:
    """Rename ``old`` to ``new``; ``undoes``: the revision of the move commit it undoes."""

    old: str
    new: str
    undoes: int | None = None


def move_change(
    committed: State, move: Move, taken: Mapping[str, Consumers] | None = None
) -> Change:
    """The ``move`` change of ``move`` in ``committed`` (``taken``: a :func:`taken_index` of it,
    when the caller has one). StateError when ``old`` is not committed or ``new`` is."""
    if move.old not in committed:
        raise StateError(f"cannot move {move.old!r} to {move.new!r}: {move.old!r} does not exist")
    if move.new in committed:
        raise StateError(f"cannot move {move.old!r} to {move.new!r}: {move.new!r} already exists")
    state = committed[move.old]
    index = taken_index(committed) if taken is None else taken
    consumers = {name: dict(slots) for name, slots in sorted(index.get(move.old, {}).items())}
    reverts = () if move.undoes is None else (move.undoes,)
    return Change(
        move.new,
        ActionName.MOVE,
        state,
        state,
        {},
        reverts=reverts,
        consumers=consumers,
        moved_from=move.old,
    )


def apply_move(
    state: MutableMapping[str, ResourceState],
    old: str,
    new: str,
    after: ResourceState,
    consumers: Iterable[str],
) -> None:
    """In ``state``: ``old`` becomes ``new`` (as ``after``), and each of ``consumers`` present
    in ``state`` takes from ``new`` what it took from ``old``."""
    state.pop(old, None)
    state[new] = after
    for name in consumers:
        consumer = state.get(name)
        if consumer is not None:
            state[name] = renamed_in(consumer, old, new)


def renamed_in(resource: ResourceState, old: str, new: str) -> ResourceState:
    """``resource`` with every connection to ``old`` pointing at ``new`` instead."""
    connections = {
        input_name: _renamed(slot, old, new) for input_name, slot in resource.connections.items()
    }
    return ResourceState(
        resource.type, resource.version, resource.inputs, connections, resource.tags
    )


def renamed_consumers(consumers: Consumers, old: str, new: str) -> dict[str, Connections]:
    """A move's recorded consumer slots as they read after it (``old`` renamed ``new``)."""
    return {
        name: {key: _renamed(slot, old, new) for key, slot in slots.items()}
        for name, slots in consumers.items()
    }


def _renamed(slot: ConnectionSlot, old: str, new: str) -> ConnectionSlot:
    if isinstance(slot, str):
        return _renamed_ref(slot, old, new)
    return [None if ref is None else _renamed_ref(ref, old, new) for ref in slot]


def _renamed_ref(ref: str, old: str, new: str) -> str:
    producer, input_name = parse_ref(ref)
    return f"{new}.{input_name}" if producer == old else ref


def stack_moves(committed: State, moves: Iterable[Move]) -> list[Move]:
    """The entries of a stack's ``moved:`` still to make, in file order (see the module
    docstring); StateError naming both names for an entry that cannot be made."""
    pending: list[Move] = []
    names = set(committed)
    for move in moves:
        old, new = move.old in names, move.new in names
        if not old and new:
            continue  # done already
        if old == new:
            where = "both exist" if old else "neither exists"
            raise StateError(f"moved: cannot move {move.old!r} to {move.new!r}: {where}")
        pending.append(move)
        names.discard(move.old)
        names.add(move.new)
    return pending


def moved(
    committed: State, moves: Iterable[Move], reseal: Reseal = _as_is
) -> tuple[dict[str, ResourceState], list[Change]]:
    """``committed`` after ``moves`` (in order) and their ``move`` changes, each passed
    through ``reseal`` before the next move sees it."""
    work = dict(committed)
    changes: list[Change] = []
    for move in moves:
        change = reseal(move_change(work, move))
        assert change.after is not None
        apply_move(work, move.old, move.new, change.after, change.consumers)
        changes.append(change)
    return work, changes


def consumers_of(state: State, name: str) -> list[str]:
    """The resources of ``state`` connected from ``name``, sorted (one pass over ``state``)."""
    return sorted(taken_index(state).get(name, {}))


def inverse_moves(commits: Iterable[Commit]) -> list[Move]:
    """The moves that undo the ``move`` commits among ``commits`` (given newest first), each
    naming the commit it undoes (its change then ``reverts`` it)."""
    return [
        Move(commit.resource, commit.moved_from, commit.rev)
        for commit in commits
        if commit.action is ActionName.MOVE and commit.moved_from is not None
    ]


def moves_back_message(moves: Iterable[Change]) -> str:
    """The message of move commits that undo earlier ones (``"move back, undoing rev 4"``),
    for an apply that was given none; empty when ``moves`` undo nothing."""
    revs = sorted({rev for move in moves for rev in move.reverts})
    return f"move back, undoing rev {', '.join(map(str, revs))}" if revs else ""


def applicable_moves(
    committed: State, moves: Iterable[Move], reseal: Reseal = _as_is
) -> tuple[dict[str, ResourceState], list[Change]]:
    """Like :func:`moved`, skipping each move whose old name is gone or whose new name is
    taken by then (reverts and rollbacks make the moves that still apply)."""
    work = dict(committed)
    changes: list[Change] = []
    for move in moves:
        if move.old not in work or move.new in work:
            continue
        change = reseal(move_change(work, move))
        assert change.after is not None
        apply_move(work, move.old, move.new, change.after, change.consumers)
        changes.append(change)
    return work, changes
