"""The apply command."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import NamedTuple

import click

from retrograde.cli.caps import PREVIEW
from retrograde.cli.interrupts import cancelled_by_signals
from retrograde.cli.progress import ApplyProgress
from retrograde.cli.render import plan_line, render_apply, render_plan
from retrograde.cli.selecting import targeting_options
from retrograde.cli.session import (
    Session,
    emit_json,
    executor_option,
    jobs_option,
    json_option,
    pass_session,
)
from retrograde.cli.stack_vars import allow_include_option, stack_vars, var_options
from retrograde.commands import applying, saved_plans
from retrograde.commands.stackfiles import StackVars
from retrograde.engine.cancel import CancelToken
from retrograde.engine.runner import ApplyReport
from retrograde.model.apply import ApplyStatus
from retrograde.model.change import Change
from retrograde.model.plan import Plan


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", "-y", is_flag=True, help="Apply without asking for confirmation.")
@jobs_option
@executor_option
@allow_include_option
@var_options
@targeting_options
@click.option("--message", "-m", default="", help="Why: recorded on the apply and every commit.")
@click.option("--principal", help="Who applies (default: RETROGRADE_PRINCIPAL, else the OS user).")
@click.option(
    "--verbose", "-v", is_flag=True, help="Print a line on stderr as each action starts and ends."
)
@json_option
@pass_session
def apply(
    session: Session,
    file: Path | None,
    yes: bool,
    jobs: int,
    executor: str,
    allow_include: tuple[Path, ...],
    var_values: tuple[tuple[str, str], ...],
    var_files: tuple[Path, ...],
    targets: tuple[str, ...],
    tags: list[tuple[str, str]],
    exclude: tuple[str, ...],
    message: str,
    principal: str | None,
    verbose: bool,
    as_json: bool,
) -> None:
    """Apply the staged log (staging FILE first, if given), or the selected part of it.

    Actions run in dependency order, independent ones in parallel. Each action
    that succeeds writes one commit; a failed action writes none, its dependents
    are skipped, and both stay staged. Exits 1 if any action failed.

    With --target, --tag or --exclude only the selected actions run, with the
    ones they need; the rest stays staged. A FILE written by `plan -o` is a
    saved plan: exactly that plan runs without asking again, or nothing runs
    if the staged log or the committed head changed since.
    """
    if principal:
        session.principal = principal
    saved = file is not None and saved_plans.is_plan_file(file)
    if saved and (targets or tags or exclude):
        raise click.UsageError("a saved plan carries its selection: no --target, --tag, --exclude")
    if saved and (var_values or var_files):
        raise click.UsageError("a saved plan holds no stack file: no --var, --var-file")
    if not yes and not saved and not sys.stdin.isatty():  # before anything is staged or locked
        raise click.UsageError("refusing to apply without confirmation; pass --yes")
    confirm = None if yes or saved else partial(_confirm, session)
    selection = Selected(targets, tags, exclude)
    shown = Shown(as_json, verbose)
    given = (allow_include, stack_vars(var_values, var_files))
    report = _run(session, file, jobs, executor, message, shown, confirm, given, selection)
    if report.apply_id is None and report.status is ApplyStatus.INTERRUPTED:
        raise click.Abort  # the plan was declined: nothing ran
    emit_json(report.to_json()) if as_json else render_apply(session.out, report.to_json())
    if report.status is not ApplyStatus.SUCCEEDED:
        sys.exit(1)


class Shown(NamedTuple):
    """How the run is shown: ``--json`` (no bar), ``-v`` (a line per action start and end)."""

    as_json: bool
    verbose: bool


class Selected(NamedTuple):
    """The --target, --tag and --exclude options as given."""

    targets: tuple[str, ...]
    tags: list[tuple[str, str]]
    exclude: tuple[str, ...]


def _confirm(session: Session, plan: Plan, _changes: Mapping[str, Change]) -> bool:
    """Show the plan (under the store lock) and ask; what is confirmed is what runs."""
    plan_view = plan.to_json()
    render_plan(
        session.err, plan_view, PREVIEW, "`retrograde plan --all` lists every one", summary=False
    )
    return click.confirm(f"{plan_line(plan_view)} Apply these actions?", err=True)


def _run(
    session: Session,
    file: Path | None,
    jobs: int,
    executor: str,
    message: str,
    shown: Shown,
    confirm: applying.Confirm | None,
    given: tuple[tuple[Path, ...], StackVars],
    selection: Selected,
) -> ApplyReport:
    """Run the apply; ``given`` is FILE's ``--allow-include`` and vars."""
    ctx = session.context
    allow_include, file_vars = given
    run = partial(
        applying.apply,
        ctx,
        file,
        jobs=jobs,
        executor=executor,
        message=message,
        confirm=confirm,
        allow_include=allow_include,
        stack_vars=file_vars,
        targets=selection.targets,
        tags=selection.tags,
        exclude=selection.exclude,
    )
    bar = not shown.as_json and session.err.is_terminal
    with cancelled_by_signals(CancelToken()) as cancel:
        if not (bar or shown.verbose):
            return run(cancel=cancel)
        with ApplyProgress(session.err, bar=bar, verbose=shown.verbose) as progress:
            return run(cancel=cancel, progress=progress)
