"""Commands that read the history: log (searchable, paged) and show."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from retrograde.cli import completion
from retrograde.cli.session import (
    APPLY,
    REVISION,
    REVISION_OR_ZERO,
    Session,
    emit_json,
    json_option,
    page_options,
    pass_session,
)
from retrograde.commands import history, history_views, reading, views
from retrograde.model.change import ActionName
from retrograde.model.query import LogQuery


class Moment(click.ParamType[str]):
    """A point in time as typed for ``--since``/``--until``, in the log's timestamp form."""

    name = "TIME"

    def __init__(self, *, end: bool) -> None:
        self.end = end

    def convert(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return history.parse_moment(value, datetime.now(UTC), end=self.end)
        except ValueError as error:
            self.fail(str(error), param, ctx)


@click.command()
@click.option(
    "--resource",
    "-r",
    shell_complete=completion.resources,
    help="Only commits of this resource.",
)
@click.option("--apply", "apply_id", type=APPLY, metavar="ID", help="Only commits of this apply.")
@click.option("--principal", "-p", help="Only commits made by this principal.")
@click.option(
    "--action",
    type=click.Choice([a.value for a in ActionName]),
    help="Only commits of this action.",
)
@click.option("--input", "-i", "input_name", metavar="NAME", help="Only commits changing it.")
@click.option("--rev-from", type=REVISION_OR_ZERO, metavar="REV", help="From this rev on.")
@click.option("--rev-to", type=REVISION_OR_ZERO, metavar="REV", help="Up to this rev.")
@click.option(
    "--since",
    type=Moment(end=False),
    help="Committed at or after TIME: 2026-11-25T15:35:56Z, '2026-11-25 15:35' (UTC), "
    "or ago: 15m, 2h, 3d, 1w.",
)
@click.option(
    "--until",
    type=Moment(end=True),
    help="Committed at or before TIME (same forms; a whole second, minute or day when written so).",
)
@page_options("commits", "REV", REVISION)
@json_option
@pass_session
def log(
    session: Session,
    resource: str | None,
    apply_id: int | None,
    principal: str | None,
    action: str | None,
    input_name: str | None,
    rev_from: int | None,
    rev_to: int | None,
    since: str | None,
    until: str | None,
    before: int | None,
    limit: int,
    as_json: bool,
) -> None:
    """Search the commit log, newest first, a page at a time.

    Filters combine (all must match) and are answered from indexes, so they
    stay fast on millions of commits. A full page ends with the cursor of the
    next one: pass it as --before (JSON: "next", null on the last page).

    \b
    Examples:
      retrograde log --resource haproxy --since 2d
      retrograde log --principal alice --action remove --json
      retrograde log --input ip --until '2026-11-25 15:35' --before 1200
    """
    query = LogQuery(
        resource=resource,
        apply_id=apply_id,
        principal=principal,
        action=action,
        input=input_name,
        rev_from=rev_from,
        rev_to=rev_to,
        since=since,
        until=until,
        before_rev=before,
        limit=limit,
    )
    page = history.log_page(session.context, query)
    view = history_views.log_page_json(page, session.secrets())
    if as_json:
        emit_json(view)
    else:
        from retrograde.cli.render_history import render_log_page  # text only: rich

        render_log_page(session.out, view)


@click.command()
@click.argument("rev", type=REVISION, shell_complete=completion.revisions)
@json_option
@pass_session
def show(session: Session, rev: int, as_json: bool) -> None:
    """Show one commit (REV is its revision number) with its diff.

    Also shows who, when, which apply and why, the hash, and the resource's
    connections and tags where the commit changed them.
    """
    view = views.commit_json(reading.show(session.context, rev), session.secrets())
    if as_json:
        emit_json(view)
    else:
        from retrograde.cli.render_history import render_show  # text only: rich

        render_show(session.out, view)
