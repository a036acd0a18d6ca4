"""Rich renderings of the JSON views for people."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

ACTION_STYLE = {"run": "green", "update": "yellow", "remove": "red", "migrate": "magenta"}
ACTION_SIGN = {"run": "+", "update": "~", "remove": "-", "migrate": ">"}


def value_text(value: Any) -> str:
    """A JSON value on one line; ``None`` (absent) as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def action_text(action: str) -> Text:
    return Text(f"{ACTION_SIGN.get(action, '?')} {action}", style=ACTION_STYLE.get(action, ""))


def diff_table(diff: Mapping[str, Mapping[str, Any]]) -> Table:
    table = Table(box=None, show_header=True, pad_edge=False, padding=(0, 2, 0, 0))
    table.add_column("input", style="bold")
    table.add_column("from")
    table.add_column("to")
    for name, change in diff.items():
        table.add_row(name, value_text(change["from"]), value_text(change["to"]))
    return table


def render_changes(console: Console, view: Mapping[str, Any]) -> None:
    changes = view["changes"]
    if not changes:
        console.print("Nothing staged.")
        return
    for name, change in changes.items():
        console.print(Text.assemble(action_text(change["action"]), " ", (name, "bold")))
        if change["diff"]:
            console.print(diff_table(change["diff"]))
    console.print(f"\n{len(changes)} staged change(s).")


def render_plan(console: Console, view: Mapping[str, Any]) -> None:
    actions = view["actions"]
    if not actions:
        console.print("Nothing to do: the staged log is empty.")
        return
    table = Table(title=f"plan: {len(actions)} action(s)", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("action")
    table.add_column("resource", style="bold")
    table.add_column("after")
    for index, action in enumerate(actions, 1):
        after = ", ".join(action["after"]) or "—"
        table.add_row(str(index), action_text(action["action"]), action["resource"], after)
    console.print(table)


def render_apply(console: Console, report: Mapping[str, Any]) -> None:
    if report["apply_id"] is None:
        console.print("Nothing to apply: the staged log is empty.")
        return
    commits: Sequence[int] = report["commits"]
    revs = f" (r{commits[0]}..r{commits[-1]})" if commits else ""
    style = "green" if report["status"] == "succeeded" else "red"
    console.print(
        Text.assemble(
            f"apply {report['apply_id']} ",
            (report["status"], f"bold {style}"),
            f": {len(commits)} commit(s){revs}, {len(report['failed'])} failed, "
            f"{len(report['skipped'])} skipped",
        )
    )
    for name, failure in report["failures"].items():
        code = failure["exit_code"]
        console.print(Text(f"✗ {name} (exit {code})", style="red"))
        console.print(Text(str(failure["error"]).rstrip(), style="dim"))
    if report["skipped"]:
        console.print(Text("skipped: " + ", ".join(report["skipped"]), style="yellow"))


def render_log(console: Console, commits: Sequence[Mapping[str, Any]]) -> None:
    if not commits:
        console.print("No commits.")
        return
    table = Table()
    for column in ("rev", "time", "principal", "apply", "action", "resource", "inputs", "message"):
        table.add_column(column)
    for c in commits:
        table.add_row(
            str(c["rev"]),
            c["timestamp"][:19].replace("T", " "),
            c["principal"],
            str(c["apply_id"] or "—"),
            action_text(c["action"]),
            Text(c["resource"], style="bold"),
            ", ".join(c["diff"]) or "—",
            c["message"],
        )
    console.print(table)


def render_commit(console: Console, c: Mapping[str, Any]) -> None:
    console.print(Text.assemble(("rev ", "bold"), str(c["rev"]), "  ", action_text(c["action"])))
    fields = [
        ("resource", c["resource"]),
        ("type", f"{c['type']} v{c['version']}"),
        ("apply", c["apply_id"]),
        ("principal", c["principal"]),
        ("time", c["timestamp"]),
        ("message", c["message"]),
        ("reverts", ", ".join(map(str, c["reverts"])) or None),
        ("hash", c["hash"]),
    ]
    for label, value in fields:
        if value not in (None, ""):
            console.print(f"{label:>10}  {value}")
    if c["diff"]:
        console.print(diff_table(c["diff"]))


def render_state(console: Console, view: Mapping[str, Any]) -> None:
    resources = view["resources"]
    console.print(f"committed state at rev {view['rev']}: {len(resources)} resource(s)")
    for name, rs in resources.items():
        tags = " ".join(f"{k}={v}" for k, v in rs["tags"].items())
        console.print(Text.assemble((name, "bold"), f"  {rs['type']} v{rs['version']}  ", tags))
        table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 2))
        for input_name, value in rs["inputs"].items():
            source = rs["connections"].get(input_name)
            origin = f"← {value_text(source)}" if source is not None else ""
            table.add_row(input_name, value_text(value), Text(origin, style="cyan"))
        console.print(table)
