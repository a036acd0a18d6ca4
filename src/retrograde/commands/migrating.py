"""Staging a stack file with version migrations: committed inputs move to new type versions first.

When a stack file raises a type's version, the committed inputs of that
type's resources are taken along the type's ``migrations`` (rename, default,
drop, code steps) and recorded as ``migrate`` commits, one per resource, with
forward and reverse diffs, so they can be reverted (type version included)
like any commit. Migrate
commits run no handler: they move recorded data to the new schema, and the
ordinary staging diff that follows (migrated state -> stack file) stages
whatever still has to be done by handlers. They form an apply of their own,
written in the same transaction as the new staged log.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrograde.commands.context import Context
from retrograde.engine.clock import utc_now
from retrograde.handlers.shell import UnquotedValue
from retrograde.model.change import Change
from retrograde.model.commit import Commit
from retrograde.planning.migration_registry import StepRegistry
from retrograde.planning.migrations import MigrationPlanner, migrated, version_migrations
from retrograde.planning.propagation import propagate
from retrograde.planning.stackfile import Stack
from retrograde.planning.staging import stage_changes
from retrograde.storage.base import MigrationBatch


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


def stack_changes(ctx: Context, stack: Stack, registry: StepRegistry | None = None) -> StackChanges:
    """The migrate changes for raised type versions, then the staged changes from there.

    Malformed migration steps in any type of the stack are refused here,
    before anything is written.
    """
    planner = MigrationPlanner(stack.types, registry or StepRegistry.installed())
    planner.check_all()
    desired = propagate(stack.resources)
    committed = ctx.store.load_state()
    migrations = version_migrations(committed, desired, planner)
    changes = stage_changes(migrated(committed, migrations), desired)
    return StackChanges(changes, migrations, planner)


def migration_batch(ctx: Context, stack: Stack, migrations: list[Change]) -> MigrationBatch | None:
    """The migrate changes as one apply by ``ctx.principal``; None when there are none."""
    if not migrations:
        return None
    message = f"migrate committed inputs to the type versions of {stack.source}"
    return MigrationBatch(migrations, ctx.principal, message, utc_now())


def stage_stack(ctx: Context, stack: Stack, registry: StepRegistry | None = None) -> Staged:
    """Stage ``stack`` (the caller holds the store lock): migrate commits, then the staged log."""
    found = stack_changes(ctx, stack, registry)
    batch = migration_batch(ctx, stack, found.migrations)
    written = ctx.store.restage(
        list(found.changes.values()), stack.types.values(), migrations=batch
    )
    return Staged(found.changes, tuple(written))
