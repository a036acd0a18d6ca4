"""The resume and unlock commands: continuing an interrupted apply, freeing the store lock."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from retrograde.cli.interrupts import cancelled_by_signals
from retrograde.cli.progress import ApplyProgress
from retrograde.cli.render import render_apply
from retrograde.cli.session import (
    Session,
    emit_json,
    executor_option,
    jobs_option,
    json_option,
    pass_session,
)
from retrograde.cli.stack_vars import allow_include_option, stack_vars, var_options
from retrograde.commands import locking
from retrograde.commands import resume as resuming
from retrograde.commands.resume import ResumeView
from retrograde.engine.cancel import CancelToken
from retrograde.model.apply import ApplyStatus

KIND_STYLE = {"removed": "red", "added": "green", "changed": "magenta", "staged": "yellow"}


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@jobs_option
@executor_option
@allow_include_option
@var_options
@click.option("--principal", help="Who resumes (default: RETROGRADE_PRINCIPAL, else the OS user).")
@json_option
@pass_session
def resume(
    session: Session,
    file: Path | None,
    jobs: int,
    executor: str,
    allow_include: tuple[Path, ...],
    var_values: tuple[tuple[str, str], ...],
    var_files: tuple[Path, ...],
    principal: str | None,
    as_json: bool,
) -> None:
    """Continue the interrupted apply, under the same apply id.

    Actions already committed are not run again. Actions that were in flight
    when the apply stopped (started, not committed) run again, so handlers
    must be idempotent; they are listed as re-run. Actions that had failed stay
    failed.

    With FILE, FILE's definitions are the current ones: committed inputs of
    types whose version went up are migrated first, then the unfinished actions
    are reconciled with what FILE stages, in this order: removed actions are
    dropped, added ones join the plan, changed type versions are migrated
    (refused, naming resource, type and versions, when the type declares no
    migration between them). Every step is reported. Exits 1 if an action failed
    or the resumed apply was interrupted again (Ctrl-C works as for apply).
    """
    if principal:
        session.principal = principal
    run = partial(
        resuming.resume,
        session.context,
        file,
        jobs=jobs,
        executor=executor,
        allow_include=allow_include,
        stack_vars=stack_vars(var_values, var_files),
    )
    with cancelled_by_signals(CancelToken()) as cancel:
        if as_json or not session.err.is_terminal:
            result = run(cancel=cancel)
        else:
            with ApplyProgress(session.err) as progress:
                result = run(cancel=cancel, progress=progress)
    view = result.to_json(session.secrets())
    if as_json:
        emit_json(view)
    else:
        render_resume(session.out, view)
    if result.report.status is not ApplyStatus.SUCCEEDED:
        sys.exit(1)


def render_resume(console: Console, view: ResumeView) -> None:
    """The reconciliation steps, the migrations, the re-run actions, then the apply's outcome."""
    for step in view["resumption"]:
        style = KIND_STYLE.get(step["kind"], "")
        console.print(
            Text.assemble(
                (f"{step['kind']:<8}", style),
                " ",
                (step["resource"], "bold"),
                f" ({step['action']}, {step['type']}): {step['detail']}",
            )
        )
    revs = [commit["rev"] for commit in view["migrations"]]
    if revs:
        console.print(f"migrated committed inputs: {_revisions(revs)}")
    for name in view["rerun"]:
        console.print(Text(f"re-ran {name}: it was in flight when the apply stopped", style="cyan"))
    render_apply(console, view)


def _revisions(revs: Sequence[int]) -> str:
    return f"r{revs[0]}" if len(revs) == 1 else f"r{revs[0]}..r{revs[-1]}"


@click.command()
@click.option(
    "--force",
    is_flag=True,
    help="Free the lock even if its holder looks alive (it stops at its next commit).",
)
@json_option
@pass_session
def unlock(session: Session, force: bool, as_json: bool) -> None:
    """Free the store lock left by a process that is gone.

    A holder that died on this host, or whose lease ran out (it stopped
    refreshing it), is detected by every command anyway; unlock frees such a
    lock now. A live holder is refused and named, unless --force: use that
    only when you know the holder is gone (e.g. its machine is down). An apply
    whose lock was taken stops at its next commit; `retrograde resume`
    continues it.
    """
    held = locking.unlock(session.context, force=force)
    if as_json:
        emit_json({"released": held.to_json() if held else None})
    elif held is None:
        session.out.print("The store is not locked.")
    else:
        what = f"apply {held.apply_id}" if held.apply_id is not None else held.activity
        session.out.print(
            f"Released the lock held by {what} of {held.principal} on {held.host} "
            f"(pid {held.pid}) since {held.since}."
        )
