"""Committing finished changes: the log, committed state and the staged log move together."""

from __future__ import annotations

from collections.abc import Sequence

from retrograde.clock import utc_now
from retrograde.model.change import Change
from retrograde.model.commit import Commit
from retrograde.planning.moves import moves_back_message
from retrograde.storage.base import Transaction
from retrograde.storage.repositories import CommitEntry


def commit_changes(
    tx: Transaction, apply_id: int, principal: str, message: str, entries: Sequence[CommitEntry]
) -> list[Commit]:
    """One commit per entry, each with its committed-state update and unstaging, in ``tx``.

    A snapshot of committed state is taken when the commits cross the
    snapshot interval (after state includes them).
    """
    return _committed(tx, apply_id, principal, message, entries, moves=False)


def commit_staged_moves(
    tx: Transaction, apply_id: int, principal: str, message: str, moves: Sequence[Change]
) -> list[Commit]:
    """In ``tx``: one ``move`` commit per staged move, in order, for apply ``apply_id``; the
    staged moves are then gone (the value changes staged after them stay). Without a
    ``message``, the commits name the moves they undo (see :func:`moves_back_message`)."""
    now = utc_now()
    entries = [CommitEntry(move, now) for move in moves]
    text = message or moves_back_message(moves)
    return _committed(tx, apply_id, principal, text, entries, moves=True)


def _committed(
    tx: Transaction,
    apply_id: int,
    principal: str,
    message: str,
    entries: Sequence[CommitEntry],
    *,
    moves: bool,
) -> list[Commit]:
    if not entries:
        return []
    built = tx.log.append(apply_id, principal, message, entries)
    tx.state.apply([entry.change for entry in entries])
    if moves:
        tx.staged.remove_moves()
    else:
        tx.staged.remove(list(dict.fromkeys(entry.change.resource for entry in entries)))
    tx.snapshots.take_if_due(built[0].rev - 1, built[-1].rev)
    return built
