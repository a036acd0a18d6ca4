"""Verbs that look at the past: state at a revision, diff between two, committed state as a stack.

A past revision is named by its number or by a checkpoint. Answers come from
the store's snapshots plus a short replay, never from replaying the whole log.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrograde.commands.context import Context
from retrograde.commands.reading import StateSnapshot
from retrograde.errors import NotFoundError
from retrograde.model.change import Change
from retrograde.model.state import ResourceState
from retrograde.planning.diffing import stage_changes
from retrograde.storage.base import Transaction
from retrograde.storage.sealing import Opener, Sealer, opened_types, secret_names

Target = str | int
"""A revision number (``12`` or ``"12"``) or a checkpoint name."""


@dataclass(frozen=True, slots=True)
class Revision:
    """A resolved target: its revision, and the checkpoint it was named by (if any)."""

    rev: int
    checkpoint: str | None = None


@dataclass(frozen=True, slots=True)
class RevisionDiff:
    """What changed between two revisions, per resource, as changes from ``old`` to ``new``."""

    old: Revision
    new: Revision
    changes: dict[str, Change]


def resolve(tx: Transaction, target: Target) -> Revision:
    """The revision ``target`` names: digits are a revision (``0..head``), else a checkpoint."""
    if isinstance(target, int) or target.isdigit():
        rev = int(target)
        head, _ = tx.log.head()
        if not 0 <= rev <= head:
            raise NotFoundError("revision", rev)
        return Revision(rev)
    checkpoint = tx.checkpoints.get(target)
    return Revision(checkpoint.rev, checkpoint.name)


def state_at_revision(tx: Transaction, rev: int) -> dict[str, ResourceState]:
    """Committed state as of ``rev``: the state table itself for the head revision."""
    head, _ = tx.log.head()
    return tx.state.load() if rev == head else tx.snapshots.state_at(rev)


def state_at(ctx: Context, target: Target, resource: str | None = None) -> StateSnapshot:
    """Committed state as it was at ``target``, of every resource or of one that existed then."""
    with ctx.store.read() as tx:
        rev = resolve(tx, target).rev
        resources = state_at_revision(tx, rev)
    if resource is not None:
        if resource not in resources:
            raise NotFoundError(f"resource (at rev {rev})", resource)
        resources = {resource: resources[resource]}
    return StateSnapshot(rev=rev, resources=dict(sorted(resources.items())))


def diff_revisions(ctx: Context, old: Target | None, new: Target | None) -> RevisionDiff:
    """Per resource, what changed from ``old`` to ``new`` (each defaults to the head revision).

    ``diff --from 5`` is what changed since revision 5; ``diff --to 5`` is what
    rolling back to revision 5 would change. With the store's key the states are
    compared in plaintext (a value the log holds in clear and state sealed, since
    its input was declared secret, is the same value), and the changes hold the
    values sealed again.
    """
    with ctx.store.read() as tx:
        head, _ = tx.log.head()
        start = resolve(tx, old) if old is not None else Revision(head)
        end = resolve(tx, new) if new is not None else Revision(head)
        before, after = state_at_revision(tx, start.rev), state_at_revision(tx, end.rev)
        types = tx.state.types()
    if ctx.keys.problem() is not None:
        return RevisionDiff(start, end, stage_changes(before, after))
    opener = Opener(ctx.keys.box)
    changes = stage_changes(opener.states(before), opener.states(after))
    sealer = Sealer(opener, ctx.keys.box, secret_names(types))
    return RevisionDiff(start, end, {name: sealer.change(c) for name, c in changes.items()})


def stack(ctx: Context, snapshot: StateSnapshot) -> str:
    """``snapshot`` as a stack file (``state --stack``): types, resources, ``${…}`` connections."""
    from retrograde.planning.stack_render import stack_text  # YAML, loaded for --stack only

    keys = {(rs.type, rs.version) for rs in snapshot.resources.values()}
    with ctx.store.read() as tx:
        types = tx.state.types(keys) if keys else {}
        outputs = tx.state.outputs()
    resources = snapshot.resources
    if ctx.keys.problem() is None:  # in plaintext, a secret equal to its default is left out
        resources = Opener(ctx.keys.box).states(resources)
        types = opened_types(types, ctx.keys.box)
    return stack_text(resources, types, rev=snapshot.rev, outputs=outputs)
