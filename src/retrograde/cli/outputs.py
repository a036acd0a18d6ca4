"""The output command: the stack's outputs, read from committed state."""

from __future__ import annotations

import sys

import click

from retrograde.cli.session import Session, emit_json, json_option, pass_session
from retrograde.cli.text import escape
from retrograde.commands import outputs
from retrograde.model.jsonvalue import JSON


@click.command()
@click.argument("name", required=False)
@json_option
@pass_session
def output(session: Session, name: str | None, as_json: bool) -> None:
    """Show the stack's outputs (or output NAME), with their values in committed state.

    The outputs are those of the stack file last staged; no file is needed.
    Secrets show as ***; an output whose resource is not committed yet is
    null. With NAME, the value alone (text as it is, anything else as JSON),
    for scripts: `curl "$(retrograde output url)"`.
    """
    view = outputs.output(session.context, name)
    if name is not None:
        value = view["outputs"][name]
        plain = _plain(value)
        emit_json(value) if as_json else click.echo(escape(plain) if _terminal() else plain)
        return
    if as_json:
        emit_json(view)
        return
    for key, value in view["outputs"].items():
        session.out.print(f"{escape(key)} = {escape(_shown(value))}", markup=False)


def _terminal() -> bool:
    """Whether standard output is a terminal: control characters are escaped only there, so a
    script reading the value gets it exactly."""
    return sys.stdout.isatty()


def _plain(value: JSON) -> str:
    """A value alone, for a script: text as it is, anything else as JSON."""
    return value if isinstance(value, str) else _json(value)


def _shown(value: JSON) -> str:
    """A value in the list: JSON, so text is quoted and null is visible."""
    return _json(value)


def _json(value: JSON) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
