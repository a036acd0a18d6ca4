"""Rich renderings for revert, rollback, checkpoints and revision diffs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from retrograde.cli.render import action_text, diff_table, render_plan


def target_text(target: Mapping[str, Any]) -> str:
    """``rev 12`` or ``rev 12 (checkpoint before-upgrade)``."""
    named = f" (checkpoint {target['checkpoint']})" if target.get("checkpoint") else ""
    return f"rev {target['rev']}{named}"


def render_change_list(console: Console, changes: Mapping[str, Any]) -> None:
    for name, change in changes.items():
        console.print(Text.assemble(action_text(change["action"]), " ", (name, "bold")))
        if change["diff"]:
            console.print(diff_table(change["diff"]))


def render_preview(console: Console, view: Mapping[str, Any], verb: str) -> None:
    """The changes a revert or rollback staged, the plan, and what to do next."""
    if view["reverts"]:
        what = f"{verb} rev {', '.join(map(str, view['reverts']))}"
    else:
        what = f"{verb} to {target_text(view['target'])}"
    if not view["changes"]:
        console.print(f"{what}: nothing to change, committed state already matches.")
        return
    console.print(Text(f"{what}:", style="bold"))
    render_change_list(console, view["changes"])
    console.print()
    render_plan(console, view["plan"])
    if view["staged"]:
        count = len(view["changes"])
        console.print(f"Staged {count} change(s); run `retrograde apply` to carry them out.")
    else:
        console.print("Dry run: nothing was staged.")


def render_checkpoints(console: Console, view: Mapping[str, Any]) -> None:
    checkpoints = view["checkpoints"]
    if not checkpoints:
        console.print("No checkpoints.")
        return
    table = Table()
    for column in ("name", "rev", "time", "principal", "description"):
        table.add_column(column)
    for c in checkpoints:
        time = c["timestamp"][:19].replace("T", " ")
        table.add_row(
            Text(c["name"], style="bold"), str(c["rev"]), time, c["principal"], c["description"]
        )
    console.print(table)


def render_checkpoint(console: Console, view: Mapping[str, Any]) -> None:
    console.print(f"Checkpoint {view['name']!r} names rev {view['rev']}.")


def render_revision_diff(console: Console, view: Mapping[str, Any]) -> None:
    span = f"from {target_text(view['from'])} to {target_text(view['to'])}"
    if not view["changes"]:
        console.print(f"No changes {span}.")
        return
    console.print(Text(f"Changes {span}:", style="bold"))
    render_change_list(console, view["changes"])
    console.print(f"\n{len(view['changes'])} resource(s) differ.")
