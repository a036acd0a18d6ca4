"""The ``retrograde`` command: global options, the verbs, and how errors look.

The verbs are loaded by name, on use: ``retrograde --version`` and
``retrograde --help`` import click and this module only, and a verb imports
what it needs (the store's SQL library, rich, Jinja2, YAML) when it runs.
``--help`` lists the verbs from :data:`VERBS`, whose summaries are the first
sentence of each verb's own help (a test keeps them equal).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

import click

from retrograde.errors import RetrogradeError


class Verb(NamedTuple):
    """Where a verb's click command lives (``module:attribute``) and its one-line summary."""

    target: str
    summary: str


VERBS: Mapping[str, Verb] = {
    "stage": Verb(
        "retrograde.cli.staging:stage",
        "Stage FILE: the staged log becomes the difference between committed state and FILE.",
    ),
    "validate": Verb(
        "retrograde.cli.validating:validate",
        "Check FILE as stage does, plus its command templates and python targets.",
    ),
    "diff": Verb(
        "retrograde.cli.staging:diff",
        "Show the staged changes: per resource, its action and each input's from/to.",
    ),
    "discard": Verb(
        "retrograde.cli.staging:discard",
        "Drop staged changes of RESOURCES (all staged changes when none are named).",
    ),
    "plan": Verb(
        "retrograde.cli.staging:plan",
        "Show the ordered actions that apply would run for the staged log.",
    ),
    "graph": Verb(
        "retrograde.cli.staging:graph",
        "Print the plan (or its selected part) as a Graphviz DOT graph (pipe it to `dot -Tsvg`).",
    ),
    "apply": Verb(
        "retrograde.cli.applying:apply",
        "Apply the staged log (staging FILE first, if given), or the selected part of it.",
    ),
    "log": Verb(
        "retrograde.cli.history:log", "Search the commit log, newest first, a page at a time."
    ),
    "show": Verb(
        "retrograde.cli.history:show",
        "Show one commit (REV is its revision number) with its diff.",
    ),
    "logs": Verb(
        "retrograde.cli.logs:logs",
        "Show what handlers wrote: for commit REV, or for the actions of an apply (--apply ID).",
    ),
    "applies": Verb(
        "retrograde.cli.audit:applies",
        "List applies, newest first: id, principal, message, status, times, counts.",
    ),
    "blame": Verb(
        "retrograde.cli.audit:blame",
        "Show, for every input of RESOURCE, the commit that last set it.",
    ),
    "verify": Verb(
        "retrograde.cli.audit:verify",
        "Check the commit log and committed state for tampering or damage.",
    ),
    "export": Verb(
        "retrograde.cli.transfer:export",
        "Export the commit log as JSON Lines, one commit per line (see docs/history.md).",
    ),
    "import": Verb(
        "retrograde.cli.transfer:import_",
        "Build this store from an export FILE (plain or .zst); the store must be empty.",
    ),
    "state": Verb(
        "retrograde.cli.state:state",
        "Show committed state: resolved inputs, their connections, and tags.",
    ),
    "revert": Verb(
        "retrograde.cli.rollback:revert",
        "Stage the undoing of commits REV... or of a whole apply (--apply ID).",
    ),
    "rollback": Verb(
        "retrograde.cli.rollback:rollback",
        "Stage the way back to a checkpoint or revision, for all or some resources.",
    ),
    "checkpoint": Verb(
        "retrograde.cli.rollback:checkpoint",
        "Name a revision NAME, to show or roll back to it later.",
    ),
    "checkpoints": Verb(
        "retrograde.cli.rollback:checkpoints",
        "List checkpoints by revision: name, revision, time, principal, description.",
    ),
    "resume": Verb(
        "retrograde.cli.resume:resume", "Continue the interrupted apply, under the same apply id."
    ),
    "unlock": Verb(
        "retrograde.cli.resume:unlock", "Free the store lock left by a process that is gone."
    ),
}
"""Every verb by name, loaded on first use (see :class:`RetrogradeGroup`)."""


class RetrogradeGroup(click.Group):
    """Loads verbs by name from :data:`VERBS`; turns every RetrogradeError into one line on
    stderr and exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *VERBS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        verb = VERBS.get(cmd_name)
        if verb is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = verb.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{verb.target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The verbs and their summaries, as click lists them, without importing any verb."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self._summary(ctx, name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _summary(self, ctx: click.Context, name: str, limit: int) -> str:
        verb = VERBS.get(name)
        command = click.Command(name, help=verb.summary) if verb else super().get_command(ctx, name)
        return command.get_short_help_str(limit) if command is not None else ""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RetrogradeError as exc:
            print_error(exc)
            sys.exit(exc.exit_code)


def print_error(exc: RetrogradeError) -> None:
    """``error: MESSAGE`` on stderr, one line, control characters escaped, never markup."""
    from rich.console import Console
    from rich.markup import escape

    from retrograde.cli.text import escape as escape_controls

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[red]error:[/red] {escape(escape_controls(str(exc)))}"
    )


@click.group(cls=RetrogradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="RETROGRADE_DB",
    metavar="URL",
    help="Store URL (sqlite:///path or postgresql://...). "
    "Default: RETROGRADE_DB, else .retrograde/state.db here.",
)
@click.version_option(package_name="retrograde")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Stage, apply and roll back changes to a graph of connected resources.

    Every applied action becomes a commit in a searchable, verifiable log.
    Typical flow: stage FILE → diff → plan → apply → log.
    """
    from retrograde.cli.session import Session

    session = Session(db=db, principal=None)
    ctx.obj = session
    ctx.call_on_close(session.close)


def main() -> None:
    cli(prog_name="retrograde")


if __name__ == "__main__":  # python -m retrograde.cli.main (crash tests spawn it this way)
    main()
