"""Verbs on the staged log: stage (all of a stack file, or part of it), diff, discard."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive, interrupted_applies
from retrograde.commands.planning import plan_for
from retrograde.commands.stack_staging import Staged, stack_changes, stage_stack, write_staging
from retrograde.commands.stackfiles import StackVars, read_verb_stack
from retrograde.commands.validating import check_stack, raise_problems
from retrograde.errors import NotFoundError, StateError
from retrograde.handlers.shell import unquoted_input_values
from retrograde.memory import gc_paused
from retrograde.model.apply import ApplyStatus
from retrograde.model.change import Change
from retrograde.planning.selection import TagPairs
from retrograde.planning.stackfile import Stack
from retrograde.planning.targeting import Targeting, merged, restaged


def stage(
    ctx: Context,
    path: Path,
    *,
    allow_include: Sequence[Path] = (),
    stack_vars: StackVars | None = None,
    targets: Iterable[str] = (),
    tags: TagPairs = (),
    exclude: Iterable[str] = (),
) -> dict[str, Change]:
    """Make the staged log the difference between committed state and the stack file.

    Values flow through connections first, so a changed producer stages every
    consumer it reaches. Nothing is stored when the file is invalid. Refused
    while another process holds the store or an interrupted apply waits.
    A raised type version first migrates committed inputs (see :func:`stage_file`).

    With ``targets``, ``tags`` or ``exclude``, only the selected resources'
    staged changes are replaced, with what they need (see
    :func:`stage_selected`); every other staged change stays as it was.
    ``stack_vars`` gives values for the stack's ``vars:``.
    """
    return stage_file(
        ctx,
        path,
        allow_include=allow_include,
        stack_vars=stack_vars,
        targets=targets,
        tags=tags,
        exclude=exclude,
    ).changes


def stage_file(
    ctx: Context,
    path: Path,
    *,
    allow_include: Sequence[Path] = (),
    stack_vars: StackVars | None = None,
    targets: Iterable[str] = (),
    tags: TagPairs = (),
    exclude: Iterable[str] = (),
) -> Staged:
    """Like :func:`stage`, also returning the ``migrate`` commits written first.

    When the stack raises a type's version, the committed inputs of its
    resources are migrated along the type's ``migrations`` and committed (no
    handler runs) before the staging diff is taken; see
    :mod:`retrograde.commands.stack_staging`. Its ``warnings`` name each input
    value a shell template pastes unquoted with ``| raw``. ``allow_include``
    names directories (relative to ``ctx.cwd``) the stack may include from
    besides its own tree.
    """
    with gc_paused():
        stack = read_verb_stack(ctx.cwd, path, allow_include=allow_include, stack_vars=stack_vars)
        raise_problems(check_stack(stack))  # what validate checks, before the lock
        with exclusive(ctx, "stage"):
            staged = stage_selected(ctx, stack, Targeting.of(targets, tags, exclude))
    warnings = tuple(unquoted_input_values(stack.types.values()))
    return dataclasses.replace(staged, warnings=warnings)


def stage_selected(ctx: Context, stack: Stack, targeting: Targeting) -> Staged:
    """Stage ``stack`` for the resources ``targeting`` picks (the caller holds the store lock).

    The file's changes are planned as a whole; the selected resources and the
    closure of their actions in that plan get their new staged changes (or
    lose their staged one, where the file brings them back to committed
    state); every other staged change stays as it was. The result's
    ``changes`` are the selected ones. A stack that raises a type version is
    staged whole or not at all (its migrate commits move every resource of
    the type), so targeting one is a :class:`StateError`.
    """
    if targeting.everything:
        return stage_stack(ctx, stack)
    with ctx.store.read() as tx:
        if tx.staged.moves():
            raise StateError(_MOVES_GO_TOGETHER.format(verb="stage part of a stack file"))
    found = stack_changes(ctx, stack)
    if found.migrations:
        kinds = sorted({f"{c.type_state.type} v{c.type_state.version}" for c in found.migrations})
        raise StateError(
            f"{stack.source} raises the version of {', '.join(kinds)}; "
            "stage it without --target, --tag or --exclude"
        )
    with ctx.store.read() as tx:
        staged = tx.staged.load()
    names = restaged(plan_for(found.changes), found.changes, staged, stack.resources, targeting)
    chosen = {name: found.changes[name] for name in sorted(names) if name in found.changes}
    log = dataclasses.replace(found, changes=merged(staged, found.changes, names))
    with ctx.store.write() as tx:
        write_staging(tx, stack, log, ctx.principal)
    return Staged(chosen)


def diff(ctx: Context) -> dict[str, Change]:
    """The staged log's value changes, by resource name (its moves: :func:`staged_moves`)."""
    with ctx.store.read() as tx:
        return tx.staged.load()


def staged_moves(ctx: Context) -> list[Change]:
    """The staged moves (renames back, staged by a revert or rollback), in the order
    ``apply`` commits them, before every value change."""
    with ctx.store.read() as tx:
        return tx.staged.moves()


_MOVES_GO_TOGETHER = (
    "cannot {verb}: renames are staged, and every staged change is named as after them; "
    "apply or discard the whole staged log"
)


def discard(ctx: Context, resources: Sequence[str] = ()) -> list[str]:
    """Drop the staged changes of ``resources`` (all when empty); returns what was dropped.

    An interrupted apply is abandoned first: it ends ``failed``, its commits
    stay, and its unfinished actions count as skipped (their changes, unless
    dropped here, stay staged for the next apply). Staged moves go only with
    the whole staged log (the changes after them name resources as after them):
    naming resources while moves are staged is a :class:`StateError`.
    """
    with exclusive(ctx, "discard", allow_interrupted=True), ctx.store.write() as tx:
        if resources and tx.staged.moves():
            raise StateError(_MOVES_GO_TOGETHER.format(verb="discard some staged changes"))
        if resources:
            staged = tx.staged.kinds(resources)
            for name in resources:
                if name not in staged:
                    raise NotFoundError("staged change for resource", name)
        for record in interrupted_applies(tx):
            tx.applies.finish(record.id, ApplyStatus.FAILED, ended_at=utc_now())
        return tx.staged.discard(list(resources) or None)
