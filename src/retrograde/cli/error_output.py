"""How an error looks: one ``error:`` line on stderr, or one JSON document on stdout.

Every error the command line reports comes through :func:`report`: domain
errors (:class:`~retrograde.errors.RetrogradeError`, exit 1 or their own
``exit_code``), usage errors (click's, exit 2, never click's usage block) and
a declined or interrupted prompt (exit 1). Under ``--json`` the same error is
``{"error": {"kind", "message", ...fields}}`` on stdout, with the same exit
code, so a program reading the output never has to parse English (see
docs/json.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from retrograde.commands.error_views import domain_fields, snake_case
from retrograde.errors import RetrogradeError

USAGE_ERROR = "usage_error"
"""The kind of every usage error (an unknown option, a bad value, a missing argument)."""
ABORTED = "aborted"
"""The kind of a declined confirmation or an interrupted prompt."""


def report(exc: Exception, *, as_json: bool, no_color: bool) -> int:
    """Print ``exc`` as the command line shows errors; return the exit code."""
    fields, code = describe(exc)
    if as_json:
        from retrograde.cli.session import emit_json

        emit_json({"error": fields})
    else:
        print_line(_text(exc, fields), no_color=no_color)
    return code


def describe(exc: Exception) -> tuple[dict[str, Any], int]:
    """The JSON fields of ``exc`` (``kind``, ``message``, then its structured fields) and its
    exit code."""
    if isinstance(exc, RetrogradeError):
        return domain_fields(exc), exc.exit_code
    if isinstance(exc, click.UsageError):
        return usage_fields(exc), exc.exit_code
    if isinstance(exc, click.ClickException):
        return {"kind": snake_case(type(exc).__name__), "message": exc.format_message()}, (
            exc.exit_code
        )
    return {"kind": ABORTED, "message": "aborted: nothing was done"}, 1


def usage_fields(exc: click.UsageError) -> dict[str, Any]:
    """``kind`` ``usage_error``, the message, the command and, when known, the option."""
    fields: dict[str, Any] = {"kind": USAGE_ERROR, "message": exc.format_message()}
    if exc.ctx is not None:
        fields["command"] = exc.ctx.command_path
    param = getattr(exc, "param", None)
    option = getattr(exc, "option_name", None)
    if isinstance(param, click.Parameter):
        fields["param"] = param.opts[0] if param.opts else param.name
    elif isinstance(option, str):
        fields["param"] = option
    return fields


def _text(exc: Exception, fields: Mapping[str, Any]) -> str:
    message = str(fields["message"])
    if isinstance(exc, click.UsageError):
        command = fields.get("command", "retrograde")
        return f"{message.rstrip('.')} (see '{command} --help')"
    return message


def print_line(message: str, *, no_color: bool) -> None:
    """``error: MESSAGE`` on stderr, one line, control characters escaped, never markup."""
    from rich.console import Console
    from rich.markup import escape

    from retrograde.cli.session import colour_off
    from retrograde.cli.text import escape as escape_controls

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if no_color or colour_off():
        console = Console(stderr=True, highlight=False, soft_wrap=True, color_system=None)
    console.print(f"[red]error:[/red] {escape(escape_controls(message))}")
