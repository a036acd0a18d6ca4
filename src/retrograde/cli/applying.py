"""The apply command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from retrograde.cli.caps import PREVIEW
from retrograde.cli.progress import ApplyProgress
from retrograde.cli.render import plan_line, render_apply, render_plan
from retrograde.cli.session import Session, emit_json, jobs_option, json_option, pass_session
from retrograde.commands import applying, locking, planning, staging
from retrograde.engine.runner import ApplyReport


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", "-y", is_flag=True, help="Apply without asking for confirmation.")
@jobs_option
@click.option("--message", "-m", default="", help="Why: recorded on the apply and every commit.")
@click.option("--principal", help="Who applies (default: RETROGRADE_PRINCIPAL, else the OS user).")
@json_option
@pass_session
def apply(
    session: Session,
    file: Path | None,
    yes: bool,
    jobs: int,
    message: str,
    principal: str | None,
    as_json: bool,
) -> None:
    """Apply the staged log (staging FILE first, if given).

    Actions run in dependency order, independent ones in parallel. Each action
    that succeeds writes one commit; a failed action writes none, its dependents
    are skipped, and both stay staged. Exits 1 if any action failed.
    """
    if principal:
        session.principal = principal
    ctx = session.context
    if file is not None:
        staging.stage(ctx, file)
    else:
        locking.ensure_available(ctx)  # refuse before showing a plan that cannot run
    if not yes:  # with --yes the plan is made once, by the apply itself
        plan = planning.plan(ctx)
        if len(plan):
            _confirm(session, plan.to_json())
    report = _run(session, jobs, message, as_json)
    emit_json(report.to_json()) if as_json else render_apply(session.out, report.to_json())
    if report.failed:
        sys.exit(1)


def _confirm(session: Session, plan_view: dict[str, object]) -> None:
    if not sys.stdin.isatty():
        raise click.UsageError("refusing to apply without confirmation; pass --yes")
    render_plan(
        session.err, plan_view, PREVIEW, "`retrograde plan --all` lists every one", summary=False
    )
    click.confirm(f"{plan_line(plan_view)} Apply these actions?", abort=True, err=True)


def _run(session: Session, jobs: int, message: str, as_json: bool) -> ApplyReport:
    ctx = session.context
    if as_json or not session.err.is_terminal:
        return applying.apply(ctx, jobs=jobs, message=message)
    with ApplyProgress(session.err) as progress:
        return applying.apply(ctx, jobs=jobs, message=message, progress=progress)
