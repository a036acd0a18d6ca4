"""``--target``, ``--tag`` and ``--exclude``: the part of the staged work a verb acts on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from retrograde.cli import completion
from retrograde.planning.selection import parse_tag

F = TypeVar("F", bound=Callable[..., Any])


def tag_pairs(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, str]]:
    """``KEY=VALUE`` options as pairs, every one kept (a key may repeat); else a usage error."""
    try:
        return [parse_tag(value) for value in values]
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def targeting_options(func: F) -> F:
    """``--target R``, ``--tag K=V`` and ``--exclude R`` (each repeatable) as
    ``targets``, ``tags`` and ``exclude``."""
    func = click.option(
        "--exclude",
        "exclude",
        multiple=True,
        metavar="R",
        shell_complete=completion.staged_resources,
        help="Leave resource R out (repeatable); refused if a selected resource needs it.",
    )(func)
    func = click.option(
        "--tag",
        "tags",
        multiple=True,
        callback=tag_pairs,
        metavar="KEY=VALUE",
        help="Only resources with this tag (repeatable: different keys must all match, "
        "a repeated key matches any of its values).",
    )(func)
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="R",
        shell_complete=completion.staged_resources,
        help="Only resource R and the actions it needs (repeatable).",
    )(func)
