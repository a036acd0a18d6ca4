"""Commands that undo and name revisions: revert, rollback, checkpoint, checkpoints."""

from __future__ import annotations

import click

from retrograde.cli import completion
from retrograde.cli.render_rollback import render_checkpoint, render_checkpoints, render_preview
from retrograde.cli.selecting import tag_pairs
from retrograde.cli.session import (
    APPLY,
    REVISION,
    REVISION_OR_ZERO,
    Session,
    emit_json,
    json_option,
    pass_session,
)
from retrograde.commands import rollback as rollback_verbs
from retrograde.commands.rollback_views import checkpoints_json, preview_json

dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Show the changes and the plan, but stage nothing."
)


@click.command()
@click.argument(
    "revs", nargs=-1, type=REVISION, metavar="[REV]...", shell_complete=completion.revisions
)
@click.option(
    "--apply", "apply_id", type=APPLY, metavar="ID", help="Revert every commit of this apply."
)
@click.option("--force", is_flag=True, help="Revert even where values changed since.")
@dry_run_option
@json_option
@pass_session
def revert(
    session: Session,
    revs: tuple[int, ...],
    apply_id: int | None,
    force: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Stage the undoing of commits REV... or of a whole apply (--apply ID).

    Newer commits are undone first and values flow to consumers again; a
    removed resource comes back with its inputs, tags and connections in both
    directions. `apply` then runs the plan shown, writing commits that name the
    revisions they revert; history is never rewritten, and reverting a revert
    is a redo. Refused while other changes are staged, and when a commit no
    longer matches current state (naming resource, input, expected and current
    value) unless --force.
    """
    if bool(revs) == (apply_id is not None):
        raise click.UsageError("name the revisions to revert, or --apply ID (not both)")
    preview = rollback_verbs.revert(
        session.context, revs, apply_id=apply_id, force=force, dry_run=dry_run
    )
    view = preview_json(preview, session.secrets())
    emit_json(view) if as_json else render_preview(session.out, view, "revert")


@click.command()
@click.argument(
    "target", metavar="CHECKPOINT|REV", shell_complete=completion.checkpoints_or_revisions
)
@click.option(
    "--resource",
    "-r",
    "resources",
    multiple=True,
    shell_complete=completion.resources,
    help="Only this resource (repeatable).",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    callback=tag_pairs,
    metavar="KEY=VALUE",
    help="Only resources with this tag, now or then (repeatable: different keys must all "
    "match, a repeated key matches any of its values).",
)
@dry_run_option
@json_option
@pass_session
def rollback(
    session: Session,
    target: str,
    resources: tuple[str, ...],
    tags: list[tuple[str, str]],
    dry_run: bool,
    as_json: bool,
) -> None:
    """Stage the way back to a checkpoint or revision, for all or some resources.

    The staged log becomes the difference between current state and the state
    at CHECKPOINT|REV: resources created since are removed, ones removed since
    re-created. With --resource/--tag only those go back (e.g. --tag node=node1
    to restore one failed node while the rest stays). Refused while other
    changes are staged; `apply` carries it out.
    """
    preview = rollback_verbs.rollback(
        session.context, target, resources=resources, tags=tags, dry_run=dry_run
    )
    view = preview_json(preview, session.secrets())
    emit_json(view) if as_json else render_preview(session.out, view, "roll back")


@click.command()
@click.argument("name")
@click.option(
    "--at",
    "at",
    type=REVISION_OR_ZERO,
    metavar="REV",
    help="Name this revision (default: the newest).",
)
@click.option("--message", "-m", default="", help="What the checkpoint is (its description).")
@click.option("--principal", help="Who names it (default: RETROGRADE_PRINCIPAL, else the OS user).")
@json_option
@pass_session
def checkpoint(
    session: Session, name: str, at: int | None, message: str, principal: str | None, as_json: bool
) -> None:
    """Name a revision NAME, to show or roll back to it later.

    Checkpoints are immutable: a second one with the same name is refused.
    NAME may not be all digits (those are revisions).
    """
    if principal:
        session.principal = principal
    made = rollback_verbs.checkpoint(session.context, name, at=at, message=message)
    emit_json(made.to_json()) if as_json else render_checkpoint(session.out, made.to_json())


@click.command()
@json_option
@pass_session
def checkpoints(session: Session, as_json: bool) -> None:
    """List checkpoints by revision: name, revision, time, principal, description."""
    view = checkpoints_json(rollback_verbs.checkpoints(session.context))
    emit_json(view) if as_json else render_checkpoints(session.out, view)
