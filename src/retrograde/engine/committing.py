"""Committing finished changes: the log, committed state and the staged log move together."""

from __future__ import annotations

from collections.abc import Sequence

from retrograde.model.commit import Commit
from retrograde.storage.base import Transaction
from retrograde.storage.repositories import CommitEntry


def commit_changes(
    tx: Transaction, apply_id: int, principal: str, message: str, entries: Sequence[CommitEntry]
) -> list[Commit]:
    """One commit per entry, each with its committed-state update and unstaging, in ``tx``.

    A snapshot of committed state is taken when the commits cross the
    snapshot interval (after state includes them).
    """
    if not entries:
        return []
    built = tx.log.append(apply_id, principal, message, entries)
    tx.state.apply([entry.change for entry in entries])
    tx.staged.remove(list(dict.fromkeys(entry.change.resource for entry in entries)))
    tx.snapshots.take_if_due(built[0].rev - 1, built[-1].rev)
    return built
