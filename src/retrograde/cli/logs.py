"""The logs command: what handlers wrote, per commit or per apply, and how it is printed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from retrograde.cli.session import APPLY, REVISION, Session, emit_json, json_option, pass_session
from retrograde.cli.text import Lines
from retrograde.commands.logs import logs as read_logs

if TYPE_CHECKING:
    from rich.console import Console

CUT_NOTE = "(cut: only the start and the end of a long stream are kept, around a mark)"
DROPPED_NOTE = (
    "(dropped: the store keeps at most RETROGRADE_LOG_CAP bytes of output, oldest dropped first)"
)


@click.command()
@click.argument("target", required=False, metavar="REV | RESOURCE")
@click.option("--apply", "apply_id", type=APPLY, metavar="ID", help="Every action of this apply.")
@json_option
@pass_session
def logs(session: Session, target: str | None, apply_id: int | None, as_json: bool) -> None:
    """Show what handlers wrote: for commit REV, or for the actions of an apply (--apply ID).

    With --apply, RESOURCE narrows it to one resource's attempts. Output is
    kept per attempt, secrets masked, each stream capped (its start and end
    kept), within a store-wide size (RETROGRADE_LOG_CAP, oldest dropped first).

    \b
    Examples:
      retrograde logs 12
      retrograde logs --apply 3 haproxy --json
    """
    if apply_id is None and target is None:
        raise click.UsageError("name a revision, or an apply with --apply ID")
    if apply_id is None:
        rev = REVISION.convert(target, None, click.get_current_context())
        found = read_logs(session.context, rev)
        empty = (
            f"Revision {rev:,} ran no handler."
            if not found.ran_handler
            else f"No output recorded for revision {rev:,}."
        )
    else:
        found = read_logs(session.context, apply_id=apply_id, resource=target)
        empty = f"No output recorded for apply {apply_id:,}."
    view = found.to_json()
    emit_json(view) if as_json else render_logs(session.out, view, empty)


def render_logs(console: Console, view: Mapping[str, Any], empty: str) -> None:
    """A header per action attempt, then its stdout and stderr, escaped, as written."""
    lines = Lines()
    entries = view["logs"]
    if not entries:
        lines.add(empty)
    for number, entry in enumerate(entries):
        if number:
            lines.blank()
        _add_entry(lines, entry)
    lines.print(console)


def _add_entry(lines: Lines, entry: Mapping[str, Any]) -> None:
    outcome = ("ok", "green") if entry["ok"] else ("failed", "red")
    commit = f"  rev {entry['rev']:,}" if entry["rev"] is not None else ""
    where = f"  apply {entry['apply_id']:,}  attempt {entry['attempt']}{commit}  "
    lines.add(("== ", "bold"), (entry["resource"], "bold"), where, outcome)
    if entry["dropped"]:
        lines.add(DROPPED_NOTE)
        return
    for stream in ("stdout", "stderr"):
        text = entry[stream]
        if text.strip():
            lines.add((f"{stream}:", "bold"))
            lines.block(text, indent="  ")
    if not (entry["stdout"].strip() or entry["stderr"].strip()):
        lines.add("(no output)")
    if entry["truncated"]:
        lines.add(CUT_NOTE)
