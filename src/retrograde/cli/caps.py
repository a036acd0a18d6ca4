"""How much of a long listing text output shows: ``--limit N`` and ``--all``, and the hint.

Text output is a summary first; a listing past its cap ends with one line
saying how many more there are and how to see them. ``--json`` is never capped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from retrograde.cli.text import Lines

F = TypeVar("F", bound=Callable[..., Any])

LISTING = 200
"""Resources or actions a listing (``diff``, ``plan``, ``state``) shows by default."""

PREVIEW = 20
"""Changes or actions shown where the listing is not the point (``stage``, ``revert``)."""


def cap_options(noun: str) -> Callable[[F], F]:
    """``--limit N`` (default :data:`LISTING`) and ``--all``, as ``limit`` and ``show_all``."""

    def decorate(func: F) -> F:
        func = click.option(
            "--all", "show_all", is_flag=True, help=f"Show every {noun}, values in full."
        )(func)
        return click.option(
            "--limit",
            "limit",
            type=click.IntRange(min=1),
            metavar="N",
            help=f"Show the first N {noun}s (default {LISTING}).",
        )(func)

    return decorate


def cap(limit: int | None, show_all: bool) -> int | None:
    """How many entries to show: ``None`` for all."""
    if show_all:
        return None
    return LISTING if limit is None else limit


def more(lines: Lines, shown: int, total: int, noun: str, how: str) -> None:
    """The hint line after a capped listing: ``… and 19,801 more changes (how)``.

    ``noun`` is singular (``change``); it gets its plural when more than one is left.
    """
    left = total - shown
    if left > 0:
        plural = "" if left == 1 else "s"
        from retrograde.cli.text import count  # rich: only text output comes here

        lines.add((f"… and {count(left)} more {noun}{plural} ({how})", "dim"))
