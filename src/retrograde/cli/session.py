"""What every command shares: the store options, the consoles, JSON output.

Nothing slow is imported here: the store (SQLAlchemy) when a verb first uses
``session.context``, rich's console when it first prints text, so a verb that
only prints JSON, or reads no store, never loads them.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from retrograde.executors.registry import DEFAULT_EXECUTOR, EXECUTORS
from retrograde.model.numbers import MAX_NUMBER

if TYPE_CHECKING:
    from rich.console import Console

    from retrograde.commands.context import Context
    from retrograde.commands.views import Secrets

F = TypeVar("F", bound=Callable[..., Any])

PIPE_WIDTH = 160
"""Width of tables when standard output is not a terminal (and COLUMNS is unset)."""


NO_COLOR_ENV = "NO_COLOR"


def colour_off() -> bool:
    """Whether ``NO_COLOR`` is set to anything but the empty string (https://no-color.org)."""
    return bool(os.environ.get(NO_COLOR_ENV))


class Session:
    """Options from the command line, turned into a store context on first use.

    The global options may be given before or after the verb: the ones after
    it are set here while the verb's options are parsed, before it runs.
    """

    def __init__(
        self,
        db: str | None,
        principal: str | None,
        *,
        as_json: bool = False,
        no_color: bool = False,
    ) -> None:
        self.db = db
        self.principal = principal
        self.as_json = as_json
        self.no_color = no_color
        self._context: Context | None = None

    @functools.cached_property
    def out(self) -> Console:
        """Standard output, for text."""
        out = self._console(stderr=False)
        if not out.is_terminal and "COLUMNS" not in os.environ:
            out.width = PIPE_WIDTH  # tables piped to files or pagers stay readable
        return out

    @functools.cached_property
    def err(self) -> Console:
        """Standard error, for warnings and progress."""
        return self._console(stderr=True)

    def _console(self, *, stderr: bool) -> Console:
        """A console that writes no colour or style at all under --no-color or NO_COLOR."""
        from rich.console import Console

        if self.no_color or colour_off():
            return Console(
                stderr=stderr, highlight=False, soft_wrap=True, color_system=None, no_color=True
            )
        return Console(stderr=stderr, highlight=False, soft_wrap=True)

    @property
    def context(self) -> Context:
        """The store context, opened (the store created or upgraded) on first use."""
        if self._context is None:
            from retrograde.commands.context import open_context

            self._context = open_context(self.db, principal=self.principal)
        return self._context

    def secrets(self) -> Secrets:
        from retrograde.commands.views import Secrets

        with self.context.store.read() as tx:
            return Secrets(tx.state.types())

    def close(self) -> None:
        if self._context is not None:
            self._warn_without_key(self._context)
            self._context.close()

    @staticmethod
    def _warn_without_key(context: Context) -> None:
        """One line on stderr when the store's secrets could not be decrypted here (the verb
        showed them as ``***``), unless the verb's own error already said so."""
        from retrograde.errors import RetrogradeError

        keys = context.keys
        try:
            problem = keys.problem() if "keys" in vars(context) or _has_sealed(context) else None
        except RetrogradeError:  # the verb's own error says what is wrong with the store
            return
        if problem is not None and not keys.raised:
            click.echo(f"warning: {problem.message}; secrets are shown as ***", err=True)


def _has_sealed(context: Context) -> bool:
    """Whether the store keeps a data key (has sealed secrets), read without opening any key."""
    with context.store.read() as tx:
        return tx.keys.load().wrapped_key is not None


pass_session = click.make_pass_decorator(Session)


class Number(click.ParamType[int]):
    """A revision or apply number as typed: a whole number in ``minimum..2^63-1``.

    Stores keep these numbers in signed 64-bit columns, so a larger one can
    name nothing (and would overflow the database driver): it is a usage
    error, exit 2, with the range in the message.
    """

    def __init__(self, noun: str, *, minimum: int = 1) -> None:
        self.noun = noun
        self.minimum = minimum
        self.name = noun

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a whole number", param, ctx)
        if not self.minimum <= number <= MAX_NUMBER:
            self.fail(
                f"{value} is not a valid {self.noun} ({self.minimum} to {MAX_NUMBER})", param, ctx
            )
        return number


REVISION = Number("revision number")
"""A revision that names a commit: 1 and up."""
REVISION_OR_ZERO = Number("revision number", minimum=0)
"""A revision as a bound or a point in time, where 0 is the empty store before any commit."""
APPLY = Number("apply id")
"""An apply id: 1 and up."""


def json_option(func: F) -> F:
    """``--json`` as ``as_json``: true when given after the verb or before it (``retrograde
    --json log``)."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=_json_flag,
        help="Print JSON, errors included (see docs/json.md).",
    )(func)


def _json_flag(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    session = ctx.find_object(Session)
    if session is None:
        return value
    session.as_json = session.as_json or value
    return session.as_json


def jobs_option(func: F) -> F:
    """``--jobs/-j``: how many actions may run at once."""
    return click.option(
        "--jobs",
        "-j",
        default=4,
        show_default=True,
        type=click.IntRange(1, 1024),
        help="How many actions may run at once.",
    )(func)


def executor_option(func: F) -> F:
    """``--executor``: where actions run (``threads`` here, ``celery`` on workers)."""
    return click.option(
        "--executor",
        envvar="RETROGRADE_EXECUTOR",
        default=DEFAULT_EXECUTOR,
        show_default=True,
        type=click.Choice(sorted(EXECUTORS)),
        help="Where actions run: threads in this process, or celery workers"
        " (RETROGRADE_CELERY_BROKER, RETROGRADE_CELERY_BACKEND; see docs/scale-out.md).",
    )(func)


def emit_json(value: Any) -> None:
    click.echo(json_text(value))


def json_text(value: Any) -> str:
    """``value`` as indented JSON (2 spaces, UTF-8 kept).

    orjson writes it when it can: the standard library's indenting encoder is
    pure Python and takes about a second for the state of 10,000 resources.
    Values orjson refuses (integers beyond 64 bits) go to the standard library.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value, indent=2, ensure_ascii=False)


def page_options(noun: str, metavar: str, number: Number) -> Callable[[F], F]:
    """``--before/--cursor`` (a ``number``) and ``--limit`` for a paged listing of ``noun``."""

    def decorate(func: F) -> F:
        func = click.option(
            "--limit",
            "-n",
            default=50,
            show_default=True,
            type=click.IntRange(1, 10_000),
            help=f"At most this many {noun}.",
        )(func)
        return click.option(
            "--before",
            "--cursor",
            "before",
            type=number,
            metavar=metavar,
            help=f"Only {noun} below {metavar}: the cursor a page ends with, for the next page.",
        )(func)

    return decorate
