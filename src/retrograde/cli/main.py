"""The ``retrograde`` command: global options, the verbs, and how errors look."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from retrograde.cli import applying, audit, history, resume, rollback, staging, state, transfer
from retrograde.cli import worker as worker_cli
from retrograde.cli.session import Session
from retrograde.cli.text import escape as escape_controls
from retrograde.errors import RetrogradeError


class RetrogradeGroup(click.Group):
    """Turns every RetrogradeError into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RetrogradeError as exc:
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                f"[red]error:[/red] {escape(escape_controls(str(exc)))}"
            )
            sys.exit(exc.exit_code)


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
    session = Session(db=db, principal=None)
    ctx.obj = session
    ctx.call_on_close(session.close)


for command in (
    staging.stage,
    staging.diff,
    staging.discard,
    staging.plan,
    staging.graph,
    applying.apply,
    history.log,
    history.show,
    audit.applies,
    audit.blame,
    audit.verify,
    transfer.export,
    transfer.import_,
    state.state,
    rollback.revert,
    rollback.rollback,
    rollback.checkpoint,
    rollback.checkpoints,
    resume.resume,
    resume.unlock,
    worker_cli.worker,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="retrograde")


if __name__ == "__main__":  # python -m retrograde.cli.main (crash tests spawn it this way)
    main()
