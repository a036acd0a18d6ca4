"""``--var NAME=VALUE`` and ``--var-file FILE``: values for a stack's ``vars:``, on every verb
that reads a stack file; and ``--allow-include DIR``, where its includes may come from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from retrograde.commands.stackfiles import StackVars

F = TypeVar("F", bound=Callable[..., Any])

allow_include_option = click.option(
    "--allow-include",
    "allow_include",
    multiple=True,
    metavar="DIR",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also allow includes from DIR (repeatable; RETROGRADE_ALLOW_INCLUDE adds more). "
    "By default includes must lie inside the stack file's directory.",
)


def _pairs(
    _ctx: click.Context, _param: click.Parameter, given: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """Each ``NAME=VALUE`` as ``(NAME, VALUE)``, split at the first ``=``."""
    pairs = []
    for item in given:
        name, sign, value = item.partition("=")
        if not sign or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {name!r}{'=...' if sign else ''}")
        pairs.append((name, value))
    return tuple(pairs)


def var_options(command: F) -> F:
    """Add ``--var`` and ``--var-file`` (the values arrive as ``var_values``, ``var_files``)."""
    command = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        metavar="FILE",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Values for the stack's vars from a YAML mapping (repeatable; later files win).",
    )(command)
    return click.option(
        "--var",
        "var_values",
        multiple=True,
        metavar="NAME=VALUE",
        callback=_pairs,
        help="Set the stack var NAME (repeatable; wins over --var-file, RETROGRADE_VAR_NAME "
        "and the default).",
    )(command)


def stack_vars(values: tuple[tuple[str, str], ...], files: tuple[Path, ...]) -> StackVars:
    return StackVars(values, files)
