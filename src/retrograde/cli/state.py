"""The state command: committed state, now or at any revision or checkpoint."""

from __future__ import annotations

import click

from retrograde.cli import completion
from retrograde.cli.caps import cap, cap_options
from retrograde.cli.session import Session, emit_json, json_option, pass_session
from retrograde.commands import reading, timetravel, views
from retrograde.model.jsonvalue import parse


@click.command()
@click.argument("resource", required=False, shell_complete=completion.resources)
@click.option(
    "--at",
    "at",
    metavar="REV|CHECKPOINT",
    shell_complete=completion.checkpoints_or_revisions,
    help="State as it was at this revision or checkpoint (answered from snapshots, fast).",
)
@click.option(
    "--stack",
    "as_stack",
    is_flag=True,
    help="Print the state as a stack file (types, resources, ${…} connections).",
)
@cap_options("resource")
@json_option
@pass_session
def state(
    session: Session,
    resource: str | None,
    at: str | None,
    as_stack: bool,
    limit: int | None,
    show_all: bool,
    as_json: bool,
) -> None:
    """Show committed state: resolved inputs, their connections, and tags.

    With --at, the state as it was at a past revision or checkpoint. With
    --stack, the state written as a stack file, e.g. for your source to follow
    after a revert or rollback (secrets are not printed: see the file's header).
    Text output lists the first 200 resources (--limit N, --all).
    """
    if as_stack and as_json:
        raise click.UsageError("--stack and --json are two different outputs; choose one")
    ctx = session.context
    if at is None and not as_stack:
        view = parse(reading.state_json(ctx, session.secrets(), resource))
    else:
        snapshot = (
            reading.state(ctx, resource) if at is None else timetravel.state_at(ctx, at, resource)
        )
        if as_stack:
            click.echo(timetravel.stack(ctx, snapshot), nl=False)
            return
        view = views.state_json(snapshot.rev, snapshot.resources, session.secrets())
    if as_json:
        emit_json(view)
    else:
        from retrograde.cli.render import render_state  # text only: rich

        render_state(session.out, view, cap(limit, show_all))
