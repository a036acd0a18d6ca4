"""Commands that account for the history: applies, blame, verify."""

from __future__ import annotations

import sys

import click

from retrograde.cli import completion
from retrograde.cli.session import (
    APPLY,
    Session,
    emit_json,
    json_option,
    page_options,
    pass_session,
)
from retrograde.commands import history, history_views
from retrograde.errors import CorruptLogError


@click.command()
@page_options("applies", "ID", APPLY)
@json_option
@pass_session
def applies(session: Session, before: int | None, limit: int, as_json: bool) -> None:
    """List applies, newest first: id, kind, principal, message, status, times, counts.

    Counts are the actions that succeeded (one commit each), failed and were
    skipped. Use `log --apply ID` for an apply's commits.
    """
    view = history_views.applies_json(history.applies(session.context, before=before, limit=limit))
    if as_json:
        emit_json(view)
    else:
        from retrograde.cli.render_history import render_applies  # text only: rich

        render_applies(session.out, view)


@click.command()
@click.argument("resource", shell_complete=completion.resources)
@json_option
@pass_session
def blame(session: Session, resource: str, as_json: bool) -> None:
    """Show, for every input of RESOURCE, the commit that last set it.

    Each input's current value (secrets masked) with the revision, action,
    time, principal, apply and message of the newest commit that changed it.
    """
    found = history.blame(session.context, resource)
    view = history_views.blame_json(found, session.secrets())
    if as_json:
        emit_json(view)
    else:
        from retrograde.cli.render_history import render_blame  # text only: rich

        render_blame(session.out, view)


@click.command()
@json_option
@pass_session
def verify(session: Session, as_json: bool) -> None:
    """Check the commit log and committed state for tampering or damage.

    Recomputes every commit's hash from its content and the previous hash,
    checks that revisions have no gaps and times never go back, replays the
    whole log and compares the result with committed state (and with each
    stored snapshot). Reads a batch at a time. Exits 1 naming the first bad
    revision or resource.
    """
    report = history.verify(session.context)
    if as_json:
        emit_json(report.to_json())
        if not report.ok:
            sys.exit(1)
        return
    from retrograde.cli.render_history import render_verify  # text only: rich

    render_verify(session.out, report.to_json())
    if not report.ok:
        first = report.problems[0]
        raise CorruptLogError(f"verify failed: {first}", rev=first.rev, resource=first.resource)
