"""Turning a finished change into its commit.

Pure: the caller supplies the revision, the time and the previous hash.
"""

from __future__ import annotations

from functools import partial

from retrograde.model.change import Change, reverse_diff
from retrograde.model.commit import Commit, Sides, commit_hash
from retrograde.model.jsonvalue import has_float


def build_commit(
    change: Change,
    *,
    rev: int,
    apply_id: int | None,
    principal: str,
    timestamp: str,
    message: str,
    previous_hash: str,
) -> Commit:
    """The commit for ``change``, hashed onto ``previous_hash``.

    Only the diff can hold a float (every other field is text, integers or lists of
    them), so only the diff is searched for a NaN or an infinity before hashing.
    """
    side = change.type_state
    commit = partial(
        Commit,
        rev=rev,
        apply_id=apply_id,
        resource=change.resource,
        action=change.action,
        diff=change.diff,
        reverse=reverse_diff(change.diff),
        connections=Sides(
            dict(change.before.connections) if change.before else None,
            dict(change.after.connections) if change.after else None,
        ),
        tags=Sides(
            dict(change.before.tags) if change.before else None,
            dict(change.after.tags) if change.after else None,
        ),
        consumers={k: dict(v) for k, v in change.consumers.items()},
        type=side.type,
        version=side.version,
        principal=principal,
        timestamp=timestamp,
        message=message,
        reverts=change.reverts,
        moved_from=change.moved_from,
    )
    finite = not has_float(change.diff)
    return commit(hash=commit_hash(commit().body(), previous_hash, finite=finite))
