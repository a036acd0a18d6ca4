"""Verbs that undo: revert commits or a whole apply, roll back to a revision, name revisions.

``revert`` and ``rollback`` only *stage*: the undo is ordinary changes in the
staged log, ordered by the normal planner and carried out by the normal
``apply``, whose commits name what they revert. Renames to undo are staged
too, as moves back (no handler), which ``apply`` commits before the value
changes; those are staged under the names the moves give back. History is
never rewritten.
Both refuse to start while other changes are staged, so a staged log always
has one meaning (docs/design.md, "Reverting"), and both return the staged diff with the plan it
leads to; with ``dry_run`` nothing is staged. Like ``stage``, they hold the
store lock while they stage (see :mod:`retrograde.commands.locking`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive
from retrograde.commands.planning import plan_for
from retrograde.commands.timetravel import Revision, Target, resolve
from retrograde.commands.views import Secrets
from retrograde.errors import StateError
from retrograde.model.change import CREATING, ActionName, Change
from retrograde.model.checkpoint import Checkpoint, check_checkpoint_name
from retrograde.model.commit import Commit
from retrograde.model.numbers import check_number
from retrograde.model.plan import Plan
from retrograde.model.query import LogQuery
from retrograde.model.state import State
from retrograde.model.types import ResourceType, TypeKey
from retrograde.planning.diffing import stage_changes
from retrograde.planning.moves import Move, applicable_moves, inverse_moves
from retrograde.planning.reversal import revert_changes, rollback_state
from retrograde.planning.selection import Selection, TagPairs
from retrograde.storage.base import Transaction
from retrograde.storage.sealing import Opener, Sealer, resealed_move, secret_names


@dataclass(frozen=True, slots=True)
class Preview:
    """What a revert or rollback staged (or would stage, when ``staged`` is False)."""

    changes: dict[str, Change]
    plan: Plan
    staged: bool
    reverts: tuple[int, ...] = ()
    target: Revision | None = None
    moves: tuple[Change, ...] = ()
    """The renames back, staged before ``changes`` (``apply`` commits them first)."""


MOVES_PAGE = 1_000
"""Move commits read per query when a rollback looks for the renames since its target."""


def revert(
    ctx: Context,
    revs: Sequence[int] = (),
    *,
    apply_id: int | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> Preview:
    """Stage the undoing of the commits ``revs``, or of every commit of apply ``apply_id``.

    Newer commits are undone first; values flow to consumers again. A commit
    that no longer matches current state is a :class:`ConflictError` before
    anything is staged, unless ``force``. Reverting a revert is a redo.
    """
    if bool(revs) == (apply_id is not None):
        raise StateError("revert needs revisions or an apply id, not both and not neither")
    with _holding(ctx, "revert", dry_run):
        with ctx.store.read() as tx:
            refuse_if_staged(tx, "revert")
            commits = _commits(tx, revs, apply_id)
            types = tx.state.types()
            undone = [c.rev for c in commits if c.action not in CREATING]
            kinds = tx.log.kinds_before(undone)
            stored = tx.state.load()
        opener = Opener(ctx.keys.box)
        current = opener.states(stored)  # first: unchanged values keep today's ciphertext
        commits = [opener.commit(commit) for commit in commits]
        changes = revert_changes(
            current, commits, force=force, secrets=Secrets(types).of, kinds_before=kinds
        )
        newest_first = sorted(commits, key=lambda commit: commit.rev, reverse=True)
        moves = _moves_back(opener, stored, inverse_moves(newest_first))
        reverted = tuple(sorted(commit.rev for commit in commits))
        sealed = _sealed(ctx, opener, types, changes)
        return _staged(ctx, sealed, dry_run, reverts=reverted, moves=moves)


def rollback(
    ctx: Context,
    target: Target,
    *,
    resources: Collection[str] = (),
    tags: TagPairs = (),
    dry_run: bool = False,
) -> Preview:
    """Stage the difference between current state and the state at ``target``.

    With ``resources`` or ``tags`` only the resources they select (now or
    then; see :class:`~retrograde.planning.selection.Selection`: different
    keys AND, one key's values OR, so ``[("node", "n1"), ("node", "n2")]`` is
    both nodes) go back, e.g. everything tagged ``node=node1``; the others
    stay as they are, except that values still flow through connections.
    Resources that did not exist then are removed, ones removed since re-created.
    """
    with _holding(ctx, "rollback", dry_run):
        with ctx.store.read() as tx:
            refuse_if_staged(tx, "roll back")
            revision = resolve(tx, target)
            stored = tx.state.load()
            past = tx.snapshots.state_at(revision.rev)
            since = _moves_since(tx, revision.rev)
            types = tx.state.types()
        opener = Opener(ctx.keys.box)
        current, past = opener.states(stored), opener.states(past)
        selection = Selection.of(resources, tags)
        selected = None if selection.everything else selection.pick(current, past)
        wanted = [m for m in since if selected is None or {m.old, m.new} & selected]
        moves = _moves_back(opener, stored, wanted)
        base, _ = applicable_moves(current, wanted)
        changes = _sealed(
            ctx, opener, types, stage_changes(base, rollback_state(base, past, selected))
        )
        return _staged(ctx, changes, dry_run, target=revision, moves=moves)


def checkpoint(ctx: Context, name: str, *, at: int | None = None, message: str = "") -> Checkpoint:
    """Name revision ``at`` (default: the newest) ``name``; names are unique and immutable."""
    check_checkpoint_name(name)
    with ctx.store.write() as tx:
        rev = check_number("revision", at, minimum=0) if at is not None else tx.log.head()[0]
        made = Checkpoint(name, rev, message, ctx.principal, utc_now())
        tx.checkpoints.add(made)
    return made


def checkpoints(ctx: Context) -> list[Checkpoint]:
    """Every checkpoint, by revision then name."""
    with ctx.store.read() as tx:
        return tx.checkpoints.list()


def refuse_if_staged(tx: Transaction, verb: str) -> None:
    """:class:`StateError` when the staged log is not empty (staged moves count)."""
    staged = tx.staged.count()
    if staged:
        raise StateError(
            f"cannot {verb}: {staged} change(s) are staged; apply or discard them first"
        )


def _holding(ctx: Context, activity: str, dry_run: bool) -> AbstractContextManager[object]:
    """The store lock while the verb stages (as ``stage`` takes it); none for a dry run."""
    return contextlib.nullcontext() if dry_run else exclusive(ctx, activity)


def _moves_since(tx: Transaction, rev: int) -> list[Move]:
    """The moves that undo every rename after ``rev``, newest first (the ``(action, rev)``
    index lists them; renames are few)."""
    found: list[Commit] = []
    before: int | None = None
    while True:
        query = LogQuery(action=ActionName.MOVE.value, rev_from=rev + 1, before_rev=before)
        page = tx.log.search(dataclasses.replace(query, limit=MOVES_PAGE))
        found.extend(page)
        if len(page) < MOVES_PAGE:
            return inverse_moves(found)
        before = page[-1].rev


def _commits(tx: Transaction, revs: Sequence[int], apply_id: int | None) -> list[Commit]:
    if apply_id is None:
        return tx.log.get_many([check_number("revision", rev) for rev in revs])
    commits = tx.log.of_apply(check_number("apply", apply_id))
    if not commits:
        raise StateError(f"apply {apply_id} wrote no commits: there is nothing to revert")
    return commits


def _moves_back(opener: Opener, stored: State, moves: Sequence[Move]) -> list[Change]:
    """The ``move`` changes of ``moves`` that still apply, made on ``stored`` (committed state
    as stored) with their secret values sealed again under the names they go back to: the
    ciphertexts those names were read with where ``opener`` knows them."""
    _, changes = applicable_moves(stored, moves, partial(resealed_move, opener=opener))
    return changes


def _sealed(
    ctx: Context, opener: Opener, types: Mapping[TypeKey, ResourceType], changes: dict[str, Change]
) -> dict[str, Change]:
    """``changes`` (planned in plaintext) with their secret values sealed: a value read from
    the store keeps the ciphertext it was read with (see :mod:`retrograde.storage.sealing`)."""
    sealer = Sealer(opener, ctx.keys.sealing_box, secret_names(types))
    return {name: sealer.change(change) for name, change in changes.items()}


def _staged(
    ctx: Context,
    changes: dict[str, Change],
    dry_run: bool,
    *,
    reverts: tuple[int, ...] = (),
    target: Revision | None = None,
    moves: Sequence[Change] = (),
) -> Preview:
    """Stage the ``moves`` that go first and then ``changes`` (unless ``dry_run``).

    Renames run no handler; ``apply`` commits the staged moves back (as ``move`` commits
    of its own apply) before any of the value changes, which name resources as after them.
    """
    staged = bool(changes or moves) and not dry_run
    if staged:
        with ctx.store.write() as tx:
            tx.staged.replace(list(changes.values()), moves)
    return Preview(
        changes,
        plan_for(changes, moves),
        staged,
        reverts=reverts,
        target=target,
        moves=tuple(moves),
    )
