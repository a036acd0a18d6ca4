"""Renames: ``mv OLD NEW`` and the move commits every rename writes.

A rename changes no value and runs no handler: it is one ``move`` commit (an
apply of kind ``move``) naming the resource after the move, its former name,
and the connections other resources took from it, which follow it (see
:mod:`retrograde.planning.moves`). Its secret values are sealed again under
the new name (:func:`~retrograde.storage.sealing.resealed_move`), which needs
the store's key. ``mv`` holds the store lock like ``stage``
and refuses while changes (or moves) are staged: they would still name the old resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive
from retrograde.engine.committing import commit_changes
from retrograde.errors import StateError
from retrograde.model.apply import ApplyKind
from retrograde.model.change import Change
from retrograde.model.commit import Commit
from retrograde.planning.moves import Move, moved
from retrograde.planning.stackfile_values import RESOURCE_NAME
from retrograde.storage.base import Transaction
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sealing import Opener, resealed_move


def mv(ctx: Context, old: str, new: str, *, message: str = "") -> Commit:
    """Rename resource ``old`` to ``new``: one ``move`` commit, no handler run.

    StateError when ``old`` does not exist, ``new`` does, or changes are staged.
    """
    if new == old or not RESOURCE_NAME.fullmatch(new):
        raise StateError(
            f"cannot move {old!r} to {new!r}: the new name must differ and match "
            f"{RESOURCE_NAME.pattern}"
        )
    with exclusive(ctx, "mv"):
        with ctx.store.read() as tx:
            staged = tx.staged.count()
            if staged:
                raise StateError(
                    f"cannot mv: {staged} change(s) are staged; apply or discard them first"
                )
            committed = tx.state.load()
        opener = Opener(ctx.keys.box)
        _, changes = moved(committed, [Move(old, new)], partial(resealed_move, opener=opener))
        with ctx.store.write() as tx:
            return write_moves(tx, ctx.principal, message or f"mv {old} {new}", changes)[0]


def write_moves(
    tx: Transaction, principal: str, message: str, changes: Sequence[Change]
) -> list[Commit]:
    """In ``tx``: the ``move`` commits of ``changes``, as one apply of kind ``move``."""
    now = utc_now()
    record = tx.applies.record(principal, message, now, changes, ApplyKind.MOVE)
    entries = [CommitEntry(change, now) for change in changes]
    return commit_changes(tx, record.id, principal, message, entries)
