"""Commands that read the history: log, show."""

from __future__ import annotations

import click

from retrograde.cli.render import render_commit, render_log
from retrograde.cli.session import Session, emit_json, json_option, pass_session
from retrograde.commands import reading, views
from retrograde.model.query import LogQuery


@click.command()
@click.option("--resource", "-r", help="Only commits of this resource.")
@click.option("--apply", "apply_id", type=int, help="Only commits of this apply.")
@click.option(
    "--limit",
    "-n",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="At most this many commits.",
)
@json_option
@pass_session
def log(
    session: Session, resource: str | None, apply_id: int | None, limit: int, as_json: bool
) -> None:
    """Show the commit log, newest first."""
    query = LogQuery(resource=resource, apply_id=apply_id, limit=limit)
    secrets = session.secrets()
    commits = [views.commit_json(c, secrets) for c in reading.log(session.context, query)]
    emit_json({"commits": commits}) if as_json else render_log(session.out, commits)


@click.command()
@click.argument("rev", type=int)
@json_option
@pass_session
def show(session: Session, rev: int, as_json: bool) -> None:
    """Show one commit (REV is its revision number) with its diff."""
    view = views.commit_json(reading.show(session.context, rev), session.secrets())
    emit_json(view) if as_json else render_commit(session.out, view)
