"""Verbs on the staged log: stage, diff, discard."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from retrograde.commands.context import Context
from retrograde.commands.stackfiles import read_stack
from retrograde.errors import NotFoundError
from retrograde.model.change import Change
from retrograde.planning.propagation import propagate
from retrograde.planning.staging import stage_changes


def stage(ctx: Context, path: Path) -> dict[str, Change]:
    """Make the staged log the difference between committed state and the stack file.

    Values flow through connections first, so a changed producer stages every
    consumer it reaches. Nothing is stored when the file is invalid.
    """
    stack = read_stack(ctx.cwd / path, source=str(path))
    desired = propagate(stack.resources)
    changes = stage_changes(ctx.store.load_state(), desired)
    ctx.store.replace_staged(list(changes.values()), stack.types.values())
    return changes


def diff(ctx: Context) -> dict[str, Change]:
    """The staged log, by resource name."""
    return ctx.store.load_staged()


def discard(ctx: Context, resources: Sequence[str] = ()) -> list[str]:
    """Drop the staged changes of ``resources`` (all when empty); returns what was dropped."""
    if resources:
        staged = ctx.store.load_staged()
        for name in resources:
            if name not in staged:
                raise NotFoundError("staged change for resource", name)
    return ctx.store.discard_staged(list(resources) or None)
