"""The state command: committed state, as of now."""

from __future__ import annotations

import click

from retrograde.cli.render import render_state
from retrograde.cli.session import Session, emit_json, json_option, pass_session
from retrograde.commands import reading, views


@click.command()
@click.argument("resource", required=False)
@json_option
@pass_session
def state(session: Session, resource: str | None, as_json: bool) -> None:
    """Show committed state: resolved inputs, their connections, and tags."""
    snapshot = reading.state(session.context, resource)
    view = views.state_json(snapshot.rev, snapshot.resources, session.secrets())
    emit_json(view) if as_json else render_state(session.out, view)
