"""Commands on the staged log: stage, diff, discard, plan, graph."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from retrograde.cli import completion
from retrograde.cli.caps import PREVIEW, cap, cap_options
from retrograde.cli.render import render_changes, render_plan
from retrograde.cli.render_rollback import render_revision_diff
from retrograde.cli.selecting import targeting_options
from retrograde.cli.session import Session, emit_json, json_option, pass_session
from retrograde.cli.stack_vars import allow_include_option, stack_vars, var_options
from retrograde.cli.text import Lines, count, escape
from retrograde.commands import planning, saved_plans, staging, timetravel, views
from retrograde.commands.rollback_views import revision_diff_json

if TYPE_CHECKING:
    from rich.console import Console  # the type only: rich.console is slow to import

    from retrograde.model.drift import RefreshJSON


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@allow_include_option
@var_options
@targeting_options
@json_option
@pass_session
def stage(
    session: Session,
    file: Path,
    allow_include: tuple[Path, ...],
    var_values: tuple[tuple[str, str], ...],
    var_files: tuple[Path, ...],
    targets: tuple[str, ...],
    tags: list[tuple[str, str]],
    exclude: tuple[str, ...],
    as_json: bool,
) -> None:
    """Stage FILE: the staged log becomes the difference between committed state and FILE.

    Values flow through connections, so changing an input stages every
    resource connected to it, transitively. Nothing is stored if FILE is invalid.

    With --target, --tag or --exclude, only the selected resources' staged
    changes are replaced (with the actions they need: their producers', and
    for a removal its former consumers'); every other staged change stays.

    When FILE raises a type's version, the committed inputs of its resources
    are first migrated along the type's migrations and recorded as migrate
    commits (no handler runs; they can be reverted like any commit).

    --var NAME=VALUE and --var-file FILE set the stack's vars (see
    docs/stack-file.md); RETROGRADE_VAR_NAME too.
    """
    staged = staging.stage_file(
        session.context,
        file,
        allow_include=allow_include,
        stack_vars=stack_vars(var_values, var_files),
        targets=targets,
        tags=tags,
        exclude=exclude,
    )
    for warning in staged.warnings:
        session.err.print(f"warning: {warning.message}", markup=False)
    secrets = session.secrets()
    view: views.StageView = {
        **views.changes_json(staged.changes, secrets),
        "migrations": [views.commit_json(c, secrets) for c in staged.migrations],
    }
    if as_json:
        emit_json(view)
        return
    render_migrations(session, view["migrations"])
    render_changes(session.out, view, PREVIEW, "`retrograde diff --all` shows every one")


def render_migrations(session: Session, commits: Sequence[Mapping[str, object]]) -> None:
    """The first migrate commits one per line, then how many more."""
    lines = Lines()
    for commit in commits[:PREVIEW]:
        where = f"{commit['type']} v{commit['version']} (r{commit['rev']})"
        lines.add(f"migrated {commit['resource']} to {where}")
    if len(commits) > PREVIEW:
        rest = commits[PREVIEW:]
        span = f"r{rest[0]['rev']}..r{rest[-1]['rev']}"
        lines.add(f"… and {count(len(rest))} more migrated ({span}; `retrograde log` lists them)")
    lines.print(session.out)


@click.command()
@click.option(
    "--from",
    "old",
    metavar="REV|CHECKPOINT",
    shell_complete=completion.checkpoints_or_revisions,
    help="Compare revisions instead: from this one (default: the newest).",
)
@click.option(
    "--to",
    "new",
    metavar="REV|CHECKPOINT",
    shell_complete=completion.checkpoints_or_revisions,
    help="Compare revisions instead: to this one (default: the newest).",
)
@cap_options("change")
@json_option
@pass_session
def diff(
    session: Session,
    old: str | None,
    new: str | None,
    limit: int | None,
    show_all: bool,
    as_json: bool,
) -> None:
    """Show the staged changes: per resource, its action and each input's from/to.

    With --from and/or --to, show instead what differs between two revisions
    or checkpoints (each defaults to the newest revision): `diff --from 5` is
    what changed since rev 5, `diff --to 5` what rolling back to rev 5 would do.

    Text output starts with the counts and lists the first 200 resources
    (--limit N, --all); --json always has every one.
    """
    shown = cap(limit, show_all)
    if old is not None or new is not None:
        between = timetravel.diff_revisions(session.context, old, new)
        view = revision_diff_json(between, session.secrets())
        emit_json(view) if as_json else render_revision_diff(session.out, view, shown)
        return
    ctx = session.context
    staged = views.changes_json(staging.diff(ctx), session.secrets(), staging.staged_moves(ctx))
    emit_json(staged) if as_json else render_changes(session.out, staged, shown)


@click.command()
@click.argument("resources", nargs=-1, shell_complete=completion.staged_resources)
@json_option
@pass_session
def discard(session: Session, resources: tuple[str, ...], as_json: bool) -> None:
    """Drop staged changes of RESOURCES (all staged changes when none are named)."""
    dropped = staging.discard(session.context, resources)
    if as_json:
        emit_json({"discarded": dropped})
    else:
        session.out.print(f"Discarded {len(dropped)} staged change(s).")


class DetailedUsageError(click.UsageError):
    """A usage error of ``plan --detailed-exitcode``: exit 1, since 2 means "changes"."""

    exit_code = 1


class PlanCommand(click.Command):
    """``plan``: under --detailed-exitcode every error exits 1, usage errors too (2: changes)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        detailed = DETAILED in args  # before parsing, which consumes ``args``
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            if detailed:
                raise DetailedUsageError(error.format_message(), error.ctx) from error
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            if ctx.params.get("detailed"):
                raise DetailedUsageError(error.format_message(), error.ctx) from error
            raise


DETAILED = "--detailed-exitcode"


def _refreshed(session: Session) -> RefreshJSON:
    """``refresh --json``'s view of every resource with a read action (nothing recorded)."""
    from retrograde.commands.refresh import refresh

    return refresh(session.context).to_json(session.secrets())


def render_refresh_drift(console: Console, view: RefreshJSON) -> None:
    """The drift of ``plan --refresh``, before its plan."""
    from retrograde.cli.refresh import add_drift

    lines = Lines()
    add_drift(lines, view)
    lines.blank()
    lines.print(console)


@click.command(cls=PlanCommand)
@cap_options("action")
@targeting_options
@click.option(
    "--out",
    "-o",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also save the plan to FILE (mode 0600, no input values) for `apply FILE`.",
)
@click.option(
    DETAILED, "detailed", is_flag=True, help="Exit 0 if nothing to do, 2 if changes, 1 on error."
)
@click.option(
    "--refresh", "with_refresh", is_flag=True, help="Run read actions first and show drift too."
)
@json_option
@pass_session
def plan(
    session: Session,
    limit: int | None,
    show_all: bool,
    targets: tuple[str, ...],
    tags: list[tuple[str, str]],
    exclude: tuple[str, ...],
    out: Path | None,
    detailed: bool,
    with_refresh: bool,
    as_json: bool,
) -> None:
    """Show the ordered actions that apply would run for the staged log.

    Text output lists the first 200 actions in order (--limit N, --all) and
    ends with one line: `Plan: N to run, M to update, K to remove.` When the
    stack routes actions to Celery queues, each action's queue is shown, and
    how many go to each queue before that line.

    --target, --tag and --exclude show only the selected actions and those
    they need, in the order of the whole plan. -o FILE saves the plan:
    `apply FILE` runs exactly it, or refuses if the staged log or the
    committed head changed since. --refresh runs the read actions first (as
    `refresh` does, recording nothing) and shows the drift beside the plan.
    """
    ctx = session.context
    drift = _refreshed(session) if with_refresh else None
    if drift is not None and not as_json:
        render_refresh_drift(session.out, drift)
    if out is None:
        made = planning.plan(ctx, targets=targets, tags=tags, exclude=exclude)
        view = made.to_json()
    else:
        saved = saved_plans.save_plan(ctx, out, targets=targets, tags=tags, exclude=exclude)
        made, view = saved.plan, saved.plan.to_json()
        view["plan_file"] = {
            "path": str(out),
            "digest": saved.digest,
            "head": {"rev": saved.head[0], "hash": saved.head[1]},
        }
    routed = planning.queues(ctx, made)
    for action in view["actions"]:
        action["queue"] = routed[action["resource"]]
    if drift is not None:
        view["refresh"] = drift
    emit_json(view) if as_json else render_plan(session.out, view, cap(limit, show_all))
    if out is not None and not as_json:
        shown = escape(str(out))
        saved_line = f"Plan saved to {shown}; `retrograde apply {shown}` runs it."
        session.err.print(saved_line, markup=False)
    if detailed and (view["actions"] or view.get("moves")):
        sys.exit(2)


@click.command()
@targeting_options
@click.option(
    "--state",
    "committed",
    is_flag=True,
    help="Draw committed state instead: every resource and its connections.",
)
@json_option
@pass_session
def graph(
    session: Session,
    targets: tuple[str, ...],
    tags: list[tuple[str, str]],
    exclude: tuple[str, ...],
    committed: bool,
    as_json: bool,
) -> None:
    """Print the plan (or its selected part) as a Graphviz DOT graph (pipe it to `dot -Tsvg`).

    With --state, committed state instead: a box per resource, an arrow per
    connection labelled with the consumer's input. --json prints nodes and
    edges (see docs/json.md).
    """
    if committed and (targets or tags or exclude):
        raise click.UsageError("--state draws all committed state: no --target, --tag, --exclude")
    drawn = planning.graph(
        session.context, targets=targets, tags=tags, exclude=exclude, state=committed
    )
    emit_json(drawn.nodes_edges) if as_json else click.echo(drawn.dot, nl=False)
