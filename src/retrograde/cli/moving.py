"""The mv command: rename a resource, its history and connections following."""

from __future__ import annotations

import click

from retrograde.cli import completion
from retrograde.cli.session import Session, emit_json, json_option, pass_session
from retrograde.cli.text import Lines


@click.command()
@click.argument("old", metavar="OLD", shell_complete=completion.resources)
@click.argument("new", metavar="NEW")
@click.option("--message", "-m", default="", help="Message of the move commit.")
@json_option
@pass_session
def mv(session: Session, old: str, new: str, message: str, as_json: bool) -> None:
    """Rename resource OLD to NEW: one move commit, no handler runs.

    Connections follow in both directions: consumers that took values from
    OLD take them from NEW. `log --resource NEW` and `blame NEW` follow the
    resource back across the rename. Refused while changes are staged, when
    OLD does not exist or NEW does.
    """
    from retrograde.commands.moving import mv as mv_verb
    from retrograde.commands.views import commit_json

    commit = mv_verb(session.context, old, new, message=message)
    if as_json:
        emit_json(commit_json(commit, session.secrets()))
        return
    lines = Lines()
    followed = len(commit.consumers)
    lines.add(
        f"Moved {old} to {new} (rev {commit.rev}); "
        f"{followed} consumer(s) now take their values from {new}."
    )
    lines.print(session.out)
