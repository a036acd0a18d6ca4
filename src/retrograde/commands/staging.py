"""Verbs on the staged log: stage, diff, discard."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive, interrupted_applies
from retrograde.commands.migrating import Staged, stage_stack
from retrograde.commands.stackfiles import read_stack
from retrograde.commands.validating import check_stack, raise_problems
from retrograde.errors import NotFoundError
from retrograde.handlers.shell import unquoted_input_values
from retrograde.memory import gc_paused
from retrograde.model.apply import ApplyStatus
from retrograde.model.change import Change


def stage(ctx: Context, path: Path, *, allow_include: Sequence[Path] = ()) -> dict[str, Change]:
    """Make the staged log the difference between committed state and the stack file.

    Values flow through connections first, so a changed producer stages every
    consumer it reaches. Nothing is stored when the file is invalid. Refused
    while another process holds the store or an interrupted apply waits.
    A raised type version first migrates committed inputs (see :func:`stage_file`).
    """
    return stage_file(ctx, path, allow_include=allow_include).changes


def stage_file(ctx: Context, path: Path, *, allow_include: Sequence[Path] = ()) -> Staged:
    """Like :func:`stage`, also returning the ``migrate`` commits written first.

    When the stack raises a type's version, the committed inputs of its
    resources are migrated along the type's ``migrations`` and committed (no
    handler runs) before the staging diff is taken; see
    :mod:`retrograde.commands.migrating`. Its ``warnings`` name each input
    value a shell template pastes unquoted with ``| raw``. ``allow_include``
    names directories (relative to ``ctx.cwd``) the stack may include from
    besides its own tree.
    """
    allowed = [ctx.cwd / directory for directory in allow_include]
    with gc_paused():
        stack = read_stack(ctx.cwd / path, source=str(path), allow_include=allowed)
        raise_problems(check_stack(stack))  # what validate checks, before the lock
        with exclusive(ctx, "stage"):
            staged = stage_stack(ctx, stack)
    warnings = tuple(unquoted_input_values(stack.types.values()))
    return dataclasses.replace(staged, warnings=warnings)


def diff(ctx: Context) -> dict[str, Change]:
    """The staged log, by resource name."""
    with ctx.store.read() as tx:
        return tx.staged.load()


def discard(ctx: Context, resources: Sequence[str] = ()) -> list[str]:
    """Drop the staged changes of ``resources`` (all when empty); returns what was dropped.

    An interrupted apply is abandoned first: it ends ``failed``, its commits
    stay, and its unfinished actions count as skipped (their changes, unless
    dropped here, stay staged for the next apply).
    """
    with exclusive(ctx, "discard", allow_interrupted=True), ctx.store.write() as tx:
        if resources:
            staged = tx.staged.kinds(resources)
            for name in resources:
                if name not in staged:
                    raise NotFoundError("staged change for resource", name)
        for record in interrupted_applies(tx):
            tx.applies.finish(record.id, ApplyStatus.FAILED, ended_at=utc_now())
        return tx.staged.discard(list(resources) or None)
