"""``validate FILE``: check a stack file without touching the store."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from retrograde.cli.session import Session, emit_json, json_option, pass_session
from retrograde.cli.stack_vars import allow_include_option, stack_vars, var_options
from retrograde.cli.text import Lines, count
from retrograde.commands import validating


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@allow_include_option
@var_options
@click.option(
    "--executor",
    type=click.Choice(validating.EXECUTORS),
    default=validating.IN_PROCESS_EXECUTOR,
    show_default=True,
    help="Where actions will run: python targets are imported here only for threads; "
    "for celery each is a warning.",
)
@json_option
@pass_session
def validate(
    session: Session,
    file: Path,
    allow_include: tuple[Path, ...],
    var_values: tuple[tuple[str, str], ...],
    var_files: tuple[Path, ...],
    executor: str,
    as_json: bool,
) -> None:
    """Check FILE as stage does, plus its command templates and python targets.

    Templates must parse and use only the template variables and the type's
    declared inputs; python targets must import (with FILE's directory on the
    import path) and be callable. Opens no store and writes nothing. Prints
    one line per problem; exits 1 when there is any (warnings alone exit 0).
    """
    found = validating.validate(
        file,
        allow_include=allow_include,
        executor=executor,
        stack_vars=stack_vars(var_values, var_files),
    )
    if as_json:
        emit_json(found.to_json())
    else:
        render_validation(session, found)
    if not found.ok:
        sys.exit(1)


def render_validation(session: Session, found: validating.Validation) -> None:
    """Problems (stdout), warnings (stderr), then one line saying whether FILE is valid."""
    lines = Lines()
    for problem in found.problems:
        lines.add(("error: ", "red"), str(problem))
    warnings = Lines()
    for warning in found.warnings:
        warnings.add(("warning: ", "yellow"), str(warning))
    warnings.print(session.err)
    if found.problems:
        noun = "problem" if len(found.problems) == 1 else "problems"
        lines.add(f"{found.file}: {count(len(found.problems))} {noun}.")
    else:
        lines.add(f"{found.file} is valid.")
    lines.print(session.out)
