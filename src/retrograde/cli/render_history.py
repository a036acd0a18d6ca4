"""Rich renderings of the history views: log pages, show, applies, blame, verify, transfers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from retrograde.cli.render import action_text, render_commit, render_log, value_text

STATUS_STYLE = {"succeeded": "green", "failed": "red", "running": "yellow", "interrupted": "red"}


def render_log_page(console: Console, view: Mapping[str, Any]) -> None:
    """The log table, then how to ask for the next page when there is one."""
    render_log(console, view["commits"])
    if view["next"] is not None:
        console.print(Text(f"more: add --before {view['next']} for the next page", style="dim"))


def render_show(console: Console, view: Mapping[str, Any]) -> None:
    """One commit with its diff, and its connections and tags where they changed."""
    render_commit(console, view)
    for label in ("connections", "tags"):
        sides = view[label]
        before, after = sides.get("before"), sides.get("after")
        if before != after:
            console.print(f"{label:>10}  {value_text(before)} → {value_text(after)}")


def render_applies(console: Console, view: Mapping[str, Any]) -> None:
    applies = view["applies"]
    if not applies:
        console.print("No applies.")
        return
    table = Table()
    for column in ("apply", "started", "ended", "principal", "status", "ok", "failed", "skipped"):
        table.add_column(
            column, justify="right" if column in ("ok", "failed", "skipped") else "left"
        )
    table.add_column("message")
    for a in applies:
        table.add_row(
            str(a["id"]),
            _time(a["started_at"]),
            _time(a["ended_at"]),
            a["principal"],
            Text(a["status"], style=STATUS_STYLE.get(a["status"], "")),
            str(a["succeeded"]),
            str(a["failed"]),
            str(a["skipped"]),
            a["message"],
        )
    console.print(table)
    if view["next"] is not None:
        console.print(Text(f"more: add --before {view['next']} for the next page", style="dim"))


def render_blame(console: Console, view: Mapping[str, Any]) -> None:
    console.print(Text.assemble((view["resource"], "bold"), f"  {view['type']}"))
    table = Table()
    for column in ("input", "value", "rev", "action", "time", "principal", "apply", "message"):
        table.add_column(column)
    for name, entry in view["inputs"].items():
        known = entry["rev"] is not None
        table.add_row(
            Text(name, style="bold"),
            value_text(entry["value"]),
            str(entry["rev"]) if known else "—",
            action_text(entry["action"]) if known else "—",
            _time(entry["timestamp"]),
            entry["principal"] or "—",
            str(entry["apply_id"] or "—"),
            entry["message"] or "",
        )
    console.print(table)


def render_verify(console: Console, view: Mapping[str, Any]) -> None:
    head = view["head"]
    checked = (
        f"{view['commits']} commit(s) up to rev {head['rev']}, {view['resources']} resource(s)"
    )
    if view["ok"]:
        console.print(Text.assemble(("verified", "bold green"), f": {checked}"))
        console.print(Text(f"head hash {head['hash']}", style="dim"))
        return
    console.print(Text.assemble(("verification failed", "bold red"), f": {checked}"))
    for problem in view["problems"]:
        console.print(Text(f"✗ {_where(problem)}: {problem['detail']}", style="red"))


def render_transfer(console: Console, verb: str, view: Mapping[str, Any], where: str) -> None:
    if view["first_rev"] is None:
        console.print(f"{verb}: no new commits ({where} is up to date)")
        return
    console.print(
        f"{verb} {view['commits']} commit(s), rev {view['first_rev']}..{view['last_rev']}, "
        f"{view['applies']} apply record(s), {view['types']} type(s): {where}"
    )


def _where(problem: Mapping[str, Any]) -> str:
    parts = [f"rev {problem['rev']}"] if problem["rev"] is not None else []
    if problem["resource"] is not None:
        parts.append(f"resource {problem['resource']!r}")
    return ", ".join(parts) or "store"


def _time(stamp: str | None) -> str:
    return stamp[:19].replace("T", " ") if stamp else "—"
