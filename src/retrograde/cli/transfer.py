"""Commands that move the history in and out: export, import-log (and its old name, import)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from retrograde.cli.render_history import render_transfer
from retrograde.cli.session import REVISION_OR_ZERO, Session, emit_json, json_option, pass_session
from retrograde.commands import transfer


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to FILE (zstd-compressed when it ends in .zst) instead of standard output.",
)
@click.option(
    "--since",
    type=REVISION_OR_ZERO,
    metavar="REV",
    help="Only the commits after REV.",
)
@click.option(
    "--append",
    is_flag=True,
    help="Add only the commits FILE does not have yet, at its end (a new zstd frame for "
    ".zst); the bytes already in FILE are not touched.",
)
@json_option
@pass_session
def export(
    session: Session, output: Path | None, since: int | None, append: bool, as_json: bool
) -> None:
    """Export the commit log as JSON Lines, one commit per line (see docs/history.md).

    Each commit line has its forward and reverse diff and its hash; the apply
    records and type definitions the commits name come along, so `import`
    rebuilds the store exactly. The file holds secret inputs in clear: treat it
    as sensitive. With -o, prints a summary (--json: as JSON).

    \b
    Examples:
      retrograde export -o history.jsonl.zst
      retrograde export -o history.jsonl.zst --append    # later: only what is new
      retrograde export --since 1200 | jq .
    """
    if append and output is None:
        raise click.UsageError("--append needs -o FILE")
    if append and since is not None:
        raise click.UsageError("--append continues where FILE ends; leave out --since")
    if output is None:
        transfer.export(session.context, since=since, stream=sys.stdout.buffer)
        return
    report = transfer.export(session.context, output, since=since, append=append)
    if as_json:
        emit_json(report.to_json())
    else:
        render_transfer(session.out, "exported", report.to_json(), str(output))


@click.command(name="import-log")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@json_option
@pass_session
def import_log(session: Session, file: Path, as_json: bool) -> None:
    """Build this store from an export FILE (plain or .zst); the store must be empty.

    Every line is checked while reading: revisions without gaps, each hash
    recomputed from the commit and the previous hash. Committed state is
    rebuilt by replaying the commits. All or nothing: a bad line names the
    line and revision, and nothing is imported.
    """
    report = transfer.import_(session.context, file)
    if as_json:
        emit_json(report.to_json())
    else:
        render_transfer(session.out, "imported", report.to_json(), str(file))


@click.command(name="import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@json_option
@click.pass_context
def import_(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Deprecated name of import-log: build this store from an export FILE.

    Kept so that scripts written for it still work; it says so on stderr once
    and then does exactly what `import-log` does. `import` may come to mean
    something else (bringing existing resources in is `adopt`).
    """
    click.echo("note: `import` is deprecated; use `retrograde import-log`", err=True)
    ctx.invoke(import_log, file=file, as_json=as_json)
