"""The refresh command: run read actions and show drift; accept it or restore the world."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from retrograde.cli import completion
from retrograde.cli.render import value_text
from retrograde.cli.selecting import targeting_options
from retrograde.cli.session import (
    Session,
    emit_json,
    executor_option,
    jobs_option,
    json_option,
    pass_session,
)
from retrograde.cli.text import Lines, count

if TYPE_CHECKING:
    from rich.console import Console  # the type only: rich.console is slow to import

DRIFT_EXIT = 2
"""Exit status of a refresh that found drift and neither accepted nor restored it."""


@click.command()
@click.argument("resources", nargs=-1, metavar="[R]...", shell_complete=completion.resources)
@targeting_options
@click.option("--accept", is_flag=True, help="Record the observed values as `observe` commits.")
@click.option(
    "--restore",
    is_flag=True,
    help="Record the observed values, then stage the way back to committed state.",
)
@click.option("--message", "-m", default="", help="Message of the observe commits.")
@jobs_option
@executor_option
@json_option
@pass_session
def refresh(
    session: Session,
    resources: tuple[str, ...],
    targets: tuple[str, ...],
    tags: list[tuple[str, str]],
    exclude: tuple[str, ...],
    accept: bool,
    restore: bool,
    message: str,
    jobs: int,
    executor: str,
    as_json: bool,
) -> None:
    """Run the read actions of resources R... (all when none is selected) and show drift.

    Each resource whose type declares a `read` action is read in parallel;
    the inputs it reports are compared with committed state, and every input
    that differs is shown, committed against observed (secrets masked).
    Inputs a read does not report are not compared. --accept records the
    observed values as `observe` commits and stages their consumers'
    updates; --restore records them and stages the way back, for `apply`.
    Exit status: 0 no drift (or drift recorded), 2 drift found, 1 a read failed.
    """
    if accept and restore:
        raise click.UsageError("--accept and --restore exclude each other")
    from retrograde.commands.refresh import refresh as refresh_verb

    found = refresh_verb(
        session.context,
        [*resources, *targets],
        tags=tags,
        exclude=exclude,
        executor=executor,
        jobs=jobs,
        accept=accept,
        restore=restore,
        message=message,
    )
    view = found.to_json(session.secrets())
    emit_json(view) if as_json else render_refresh(session.out, view)
    if view["failed"]:
        sys.exit(1)
    if view["drift"] and not (accept or restore):
        sys.exit(DRIFT_EXIT)


def render_refresh(console: Console, view: Mapping[str, Any]) -> None:
    """Drift per resource and input, failures, and what was recorded or staged."""
    lines = Lines()
    add_drift(lines, view)
    if view["observed"]:
        lines.add(f"Recorded {count(len(view['observed']))} observe commit(s).")
    if view["staged"]:
        lines.add(
            f"Staged {count(len(view['staged']))} change(s); "
            "run `retrograde apply` to carry them out."
        )
    lines.print(console)


def add_drift(lines: Lines, view: Mapping[str, Any]) -> None:
    """The drift and failures of a refresh view, or one line saying there is none."""
    drift, failed = view["drift"], view["failed"]
    if not drift and not failed:
        lines.add("No drift: every read matches committed state.")
        return
    for name, inputs in drift.items():
        lines.add((name, "bold"), f"  drifted ({count(len(inputs))} input(s))")
        rows = [
            (f"  {key}", value_text(entry["committed"]), "->", value_text(entry["observed"]))
            for key, entry in inputs.items()
        ]
        lines.table(rows)
    for name, message in failed.items():
        lines.add((name, "bold"), ("  read failed: ", "red"), message)
    lines.add(
        (f"Drift: {count(len(drift))} resource(s)", "bold"),
        f"; {count(len(failed))} read(s) failed." if failed else ".",
    )
