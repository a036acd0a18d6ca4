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
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, NoReturn

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
    "refresh": Verb(
        "retrograde.cli.refresh:refresh",
        "Run the read actions of resources R... (all when none is selected) and show drift.",
    ),
    "adopt": Verb(
        "retrograde.cli.adopting:adopt",
        "Record resources R... of FILE that already exist as committed, without running them.",
    ),
    "mv": Verb(
        "retrograde.cli.moving:mv", "Rename resource OLD to NEW: one move commit, no handler runs."
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
        "List applies, newest first: id, kind, principal, message, status, times, counts.",
    ),
    "blame": Verb(
        "retrograde.cli.audit:blame",
        "Show, for every input of RESOURCE, the commit that last set it.",
    ),
    "verify": Verb(
        "retrograde.cli.audit:verify",
        "Check the commit log and committed state for tampering or damage.",
    ),
    "rekey": Verb(
        "retrograde.cli.keys:rekey",
        "Wrap the store's secret data key under a new key file; no stored value or hash changes.",
    ),
    "keygen": Verb(
        "retrograde.cli.audit:keygen",
        "Write a new Ed25519 signing key to PATH (mode 0600) and its public key to PATH.pub.",
    ),
    "export": Verb(
        "retrograde.cli.transfer:export",
        "Export the commit log as JSON Lines, one commit per line (see docs/history.md).",
    ),
    "import-log": Verb(
        "retrograde.cli.transfer:import_log",
        "Build this store from an export FILE (plain or .zst); the store must be empty.",
    ),
    "import": Verb(
        "retrograde.cli.transfer:import_",
        "Deprecated name of import-log: build this store from an export FILE.",
    ),
    "output": Verb(
        "retrograde.cli.outputs:output",
        "Show the stack's outputs (or output NAME), with their values in committed state.",
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
    "token": Verb(
        "retrograde.cli.tokens:token",
        "Create, list and revoke the API tokens of `retrograde serve`.",
    ),
    "serve": Verb(
        "retrograde.cli.serve:serve",
        "Serve the HTTP API (and web page) over this store (see docs/server.md).",
    ),
    "worker": Verb(
        "retrograde.cli.worker:worker",
        "Run actions sent by `apply --executor celery` (see docs/scale-out.md).",
    ),
}
"""Every verb by name, loaded on first use (see :class:`RetrogradeGroup`)."""


class RetrogradeGroup(click.Group):
    """Loads verbs by name from :data:`VERBS`, gives each the global options, and decides
    how every error looks (see :mod:`retrograde.cli.error_output`)."""

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
        return with_global_options(command)

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

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        """Run the command line and exit: domain errors exit 1 (or their ``exit_code``), usage
        errors 2, each as one ``error:`` line on stderr, or as one JSON error on stdout when
        ``--json`` was given (see docs/json.md)."""
        argv = list(sys.argv[1:] if args is None else args)
        try:
            returned = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except (RetrogradeError, click.ClickException, click.Abort) as exc:
            from retrograde.cli.error_output import report

            sys.exit(report(exc, as_json=json_requested(argv), no_color=no_color_requested(argv)))
        sys.exit(returned if isinstance(returned, int) else 0)


def json_requested(argv: Sequence[str]) -> bool:
    """Whether ``--json`` is among the options (before a ``--``), as typed: an error may come
    before the options are parsed, and must still be JSON."""
    return JSON_FLAG in _options(argv)


def no_color_requested(argv: Sequence[str]) -> bool:
    return NO_COLOR_FLAG in _options(argv)


def _options(argv: Sequence[str]) -> list[str]:
    return list(argv[: argv.index("--")] if "--" in argv else argv)


JSON_FLAG = "--json"
NO_COLOR_FLAG = "--no-color"
GLOBAL_OPTIONS = ("--db", "--principal", NO_COLOR_FLAG)
"""The global options every verb also accepts after its name (unless it has its own
option of that name: ``log --principal P`` filters by principal)."""


def with_global_options(command: click.Command) -> click.Command:
    """``command`` accepting the global options after the verb too (``log --db x.db``).

    Added once per command, when it is first loaded; a value given after the
    verb wins over one given before it.
    """
    taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
    for option in _global_options():
        if option.opts[0] not in taken:
            command.params.append(option)
    return command


def _global_options() -> list[click.Option]:
    return [
        click.Option(
            ["--db"],
            metavar="URL|PATH",
            expose_value=False,
            callback=_set_session("db"),
            help="Store URL or SQLite file (as before the verb).",
        ),
        click.Option(
            ["--principal"],
            expose_value=False,
            callback=_set_session("principal"),
            help="Who acts (as before the verb).",
        ),
        click.Option(
            [NO_COLOR_FLAG],
            is_flag=True,
            default=None,
            expose_value=False,
            callback=_set_session("no_color"),
            help="No colour in the output (as before the verb).",
        ),
    ]


def _set_session(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """A callback storing an option given after the verb on the session (and in ``ctx.meta``,
    where shell completion, which builds no session, finds it)."""

    def store(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return
        from retrograde.cli.session import Session

        ctx.meta[f"retrograde.{name}"] = value
        session = ctx.find_object(Session)
        if session is not None:
            setattr(session, name, value)

    return store


@click.group(cls=RetrogradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="RETROGRADE_DB",
    metavar="URL|PATH",
    help="Store URL (sqlite:///path, postgresql://...) or a SQLite file's path. "
    "Default: RETROGRADE_DB, else .retrograde/state.db here.",
)
@click.option(
    "--principal",
    help="Who acts, recorded on applies, commits and checkpoints "
    "(default: RETROGRADE_PRINCIPAL, else the OS user).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON, errors included (as every verb's own --json; see docs/json.md).",
)
@click.option(
    NO_COLOR_FLAG, "no_color", is_flag=True, help="No colour in the output (also: NO_COLOR set)."
)
@click.version_option(package_name="retrograde")
@click.pass_context
def cli(
    ctx: click.Context, db: str | None, principal: str | None, as_json: bool, no_color: bool
) -> None:
    """Stage, apply and roll back changes to a graph of connected resources.

    Every applied action becomes a commit in a searchable, verifiable log.
    Typical flow: stage FILE → diff → plan → apply → log.

    Global options may also follow the verb (`retrograde log --db state.db`).
    Shell completion: see docs/cli.md.
    """
    from retrograde.cli.session import Session

    session = Session(db=db, principal=principal, as_json=as_json, no_color=no_color)
    ctx.obj = session
    ctx.call_on_close(session.close)


def main() -> None:
    cli(prog_name="retrograde")


if __name__ == "__main__":  # python -m retrograde.cli.main (crash tests spawn it this way)
    main()
