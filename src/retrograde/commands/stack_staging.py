"""Staging a stack file with version migrations: committed inputs move to new type versions first.

When a stack file raises a type's version, the committed inputs of that
type's resources are taken along the type's ``migrations`` (rename, default,
drop, code steps) and recorded as ``migrate`` commits, one per resource, with
forward and reverse diffs, so they can be reverted (type version included)
like any commit. Migrate
commits run no handler: they move recorded data to the new schema, and the
ordinary staging diff that follows (migrated state -> stack file) stages
whatever still has to be done by handlers. They form an apply of their own,
written in the same transaction as the new staged log. A stack's ``moved:``
entries still to make are written before them, as ``move`` commits (an apply
of kind ``move``), so the staging diff compares the stack with committed state
under the new names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.migration_steps import StepRegistry
from retrograde.commands.moving import write_moves
from retrograde.engine.committing import commit_changes
from retrograde.handlers.shell import UnquotedValue
from retrograde.model.change import ActionName, Change
from retrograde.model.commit import Commit
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType, TypeKey
from retrograde.planning.diffing import stage_changes
from retrograde.planning.moves import moved, stack_moves
from retrograde.planning.propagation import propagate
from retrograde.planning.stackfile import Stack
from retrograde.planning.type_migrations import MigrationPlanner, migrated, version_migrations
from retrograde.storage.base import Transaction
from retrograde.storage.crypto import SecretBox
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sealing import Opener, Sealer, resealed_move, sealed_types, secret_names
from retrograde.storage.sql.reencoding import seal_clear_state


@dataclass(frozen=True, slots=True)
class Staged:
    """The result of staging: the staged changes and the migrate commits written first."""

    changes: dict[str, Change]
    migrations: tuple[Commit, ...] = ()
    warnings: tuple[UnquotedValue, ...] = ()
    """Input values the stack's shell templates paste unquoted (``| raw``)."""


@dataclass(frozen=True, slots=True)
class StackChanges:
    """What a stack file would stage (computed, nothing written yet)."""

    changes: dict[str, Change]
    migrations: list[Change]
    planner: MigrationPlanner
    moves: list[Change] = field(default_factory=list)
    """The ``move`` changes of the stack's ``moved:`` entries still to make."""
    types: list[ResourceType] = field(default_factory=list)
    """The stack's types as they are stored: secret defaults sealed."""
    reseal: SecretBox | None = None
    """The box to seal committed values with, when the stack declares secret an input of a
    committed resource's type that the store's definitions do not (see :func:`write_staging`)."""


def stack_changes(ctx: Context, stack: Stack, registry: StepRegistry | None = None) -> StackChanges:
    """The migrate changes for raised type versions, then the staged changes from there.

    Malformed migration steps in any type of the stack are refused here,
    before anything is written. Planning sees plaintext; what is returned has
    its secret values (and the types' secret defaults) sealed
    (:mod:`retrograde.storage.sealing`), unchanged ones with the ciphertext
    they are stored with.
    """
    planner = MigrationPlanner(stack.types, registry or StepRegistry.installed())
    planner.check_all()
    desired = propagate(stack.resources)
    with ctx.store.read() as tx:
        committed = tx.state.load()
        known = tx.state.types()
    opener = Opener(ctx.keys.box)  # first: the moves seal values again under new names
    resealing = partial(resealed_move, opener=opener)
    committed, moves = moved(committed, stack_moves(committed, stack.moved), resealing)
    plain = opener.states(committed)
    migrations = version_migrations(plain, desired, planner)
    changes = stage_changes(migrated(plain, migrations), desired)
    declared = {**known, **{(t.name, t.version): t for t in stack.types.values()}}
    sealer = Sealer(opener, ctx.keys.sealing_box, secret_names(declared))
    return StackChanges(
        {name: sealer.change(change) for name, change in changes.items()},
        [sealer.change(change) for change in migrations],
        planner,
        moves,
        sealed_types(stack.types.values(), known, ctx.keys.sealing_box),
        resealing_box(ctx, known, declared, committed),
    )


def resealing_box(
    ctx: Context,
    known: Mapping[TypeKey, ResourceType],
    declared: Mapping[TypeKey, ResourceType],
    committed: Mapping[str, ResourceState],
) -> SecretBox | None:
    """The box to seal committed values with (:func:`seal_clear_state`) when the types
    ``declared`` make secret an input of a ``committed`` resource's type that the store's
    definitions ``known`` do not; None when nothing is to be sealed. Found before the write
    transaction, which must not wait for the one that makes a store's first key."""
    newly = newly_secret(known, declared)
    return ctx.keys.sealing_box() if any(s.type in newly for s in committed.values()) else None


def newly_secret(
    known: Mapping[TypeKey, ResourceType], declared: Mapping[TypeKey, ResourceType]
) -> set[str]:
    """The names of the types that have a secret input in ``declared`` that is secret in no
    version of them in ``known`` (the store's definitions)."""
    before, after = secret_names(known), secret_names(declared)
    return {name for name, _version in declared if after(name, 0) - before(name, 0)}


def write_staging(
    tx: Transaction, stack: Stack, found: StackChanges, principal: str
) -> list[Commit]:
    """In ``tx``: the move commits and the migrate commits (an apply of their own each), then
    the new staged log, the types and the stack's output definitions.

    When the stack declares secret an input its resources have committed values of, those
    values are sealed in committed state, snapshots and the staged log; the commits keep
    them in clear, and ``verify`` names their revisions (history is not rewritten)."""
    written: list[Commit] = []
    if found.moves:
        message = f"moved: entries of {stack.source}"
        written = write_moves(tx, principal, message, found.moves)
    if found.migrations:
        now = utc_now()
        message = f"migrate committed inputs to the type versions of {stack.source}"
        record = tx.applies.record(principal, message, now, found.migrations)
        entries = [CommitEntry(change, now) for change in found.migrations]
        written += commit_changes(tx, record.id, principal, message, entries)
    tx.staged.replace(list(found.changes.values()))
    tx.state.save_types(found.types)
    tx.state.save_outputs(list(stack.outputs.values()))
    if found.reseal is not None:
        reseal = found.reseal
        seal_clear_state(tx, lambda: reseal)
    return written


def stage_stack(ctx: Context, stack: Stack, registry: StepRegistry | None = None) -> Staged:
    """Stage ``stack`` (the caller holds the store lock): migrate commits, then the staged log."""
    found = stack_changes(ctx, stack, registry)
    with ctx.store.write() as tx:
        written = write_staging(tx, stack, found, ctx.principal)
    migrations = tuple(commit for commit in written if commit.action is ActionName.MIGRATE)
    return Staged(found.changes, migrations)
