"""Text renderings of the JSON views for people: summaries first, long listings capped.

Everything goes through :class:`retrograde.cli.text.Lines`, which escapes data
and never interprets markup; each listing is aligned plain text, linear in
what it shows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from retrograde.cli.caps import LISTING, more
from retrograde.cli.text import (
    NAMES_WIDTH,
    VALUE_WIDTH,
    Lines,
    Piece,
    clip,
    count,
    moment,
    name_list,
)

if TYPE_CHECKING:
    from rich.console import Console  # the type only: rich.console is slow to import

ACTION_STYLE = {"run": "green", "update": "yellow", "remove": "red", "migrate": "magenta"}
ACTION_SIGN = {
    "run": "+",
    "update": "~",
    "remove": "-",
    "migrate": ">",
    "observe": "=",
    "move": ">",
    "adopt": "+",
}
PLAN_ACTIONS = ("run", "update", "remove")
FAILURE_GROUPS = 10
"""Distinct failure texts an apply report shows before it summarises the rest."""


def value_text(value: Any, width: int | None = None) -> str:
    """A JSON value on one line (``None``, absent, as an em dash), cut past ``width``."""
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return clip(text, width)


def action_piece(action: str) -> Piece:
    return f"{ACTION_SIGN.get(action, '?')} {action}", ACTION_STYLE.get(action, "")


def action_counts(actions: Iterable[str]) -> str:
    """``3 to run, 1 to update, 2 to remove`` (other actions, if any, after them)."""
    counted = Counter(actions)
    names = [*PLAN_ACTIONS, *sorted(set(counted) - set(PLAN_ACTIONS))]
    return ", ".join(f"{count(counted[name])} to {name}" for name in names)


def plan_line(view: Mapping[str, Any]) -> str:
    """The one line a plan ends with: ``Plan: 3 to run, 1 to update, 2 to remove.`` (and
    ``, 1 to move`` when renames are staged)."""
    steps = [*view.get("moves", ()), *view["actions"]]
    return f"Plan: {action_counts(a['action'] for a in steps)}."


def add_moves(lines: Lines, moves: Sequence[Mapping[str, Any]]) -> None:
    """The staged renames, in the order ``apply`` commits them (before everything else)."""
    if moves:
        lines.add((f"{count(len(moves))} staged rename(s), first, no handler:", "bold"))
    for move in moves:
        lines.add("  ", action_piece("move"), " ", move["from"], " → ", (move["resource"], "bold"))


def add_diff(lines: Lines, diff: Mapping[str, Mapping[str, Any]], width: int | None) -> None:
    """Each input's ``from → to``, aligned, under its change."""
    lines.table(
        (
            ((name, "bold"), value_text(c["from"], width), "→", value_text(c["to"], width))
            for name, c in diff.items()
        ),
        indent="    ",
    )


def add_changes(lines: Lines, changes: Mapping[str, Any], limit: int | None) -> int:
    """The first ``limit`` changes (all for ``None``), each with its diff; returns how many."""
    width = VALUE_WIDTH if limit is not None else None
    shown = 0
    for name, change in changes.items():
        if limit is not None and shown >= limit:
            break
        lines.add(action_piece(change["action"]), " ", (name, "bold"))
        if change["diff"]:
            add_diff(lines, change["diff"], width)
        shown += 1
    return shown


def render_changes(
    console: Console,
    view: Mapping[str, Any],
    limit: int | None = LISTING,
    how: str = "`retrograde diff --all` shows every one, `--limit N` the first N",
) -> None:
    """``diff`` (and ``stage``): the counts, then the first ``limit`` changes, then what is left."""
    changes = view["changes"]
    lines = Lines()
    add_moves(lines, view.get("moves", ()))
    if not changes:
        if not view.get("moves"):
            lines.add("Nothing staged.")
    else:
        actions = action_counts(c["action"] for c in changes.values())
        lines.add((f"{count(len(changes))} staged change(s)", "bold"), f": {actions}.")
        shown = add_changes(lines, changes, limit)
        more(lines, shown, len(changes), "change", how)
    lines.print(console)


def add_plan(lines: Lines, view: Mapping[str, Any], limit: int | None, how: str) -> None:
    """The plan's first ``limit`` actions in order, then what is left (no ``Plan:`` line)."""
    actions: Sequence[Mapping[str, Any]] = view["actions"]
    add_moves(lines, view.get("moves", ()))
    if not actions:
        if not view.get("moves"):
            lines.add("Nothing to do: the staged log is empty.")
        return
    width = VALUE_WIDTH if limit is not None else None
    shown = actions if limit is None else actions[:limit]
    routed = any(a.get("queue") for a in actions)
    lines.add((f"plan: {count(len(actions))} action(s)", "bold"))
    lines.table(
        (
            (
                str(index),
                action_piece(a["action"]),
                (a["resource"], "bold"),
                *((value_text(a.get("queue")),) if routed else ()),
                name_list(a["after"], NAMES_WIDTH if width else None) or "—",
            )
            for index, a in enumerate(shown, 1)
        ),
        header=("#", "action", "resource", *(("queue",) if routed else ()), "after"),
        right=frozenset({0}),
    )
    more(lines, len(shown), len(actions), "action", how)
    if routed:
        lines.add(queue_line(actions))


def queue_line(actions: Sequence[Mapping[str, Any]]) -> str:
    """``By queue: 2 on node1, 1 on node2, 3 on the default queue.`` (a routed plan's)."""
    counted = Counter(a.get("queue") for a in actions)
    routed = sorted((queue, n) for queue, n in counted.items() if queue)
    named = [f"{count(n)} on {queue}" for queue, n in routed]
    default = [f"{count(counted[None])} on the default queue"] if counted[None] else []
    return f"By queue: {', '.join([*named, *default])}."


def render_plan(
    console: Console,
    view: Mapping[str, Any],
    limit: int | None = LISTING,
    how: str = "`retrograde plan --all` lists every one, `--limit N` the first N",
    *,
    summary: bool = True,
) -> None:
    """``plan``: the actions in order (capped), ending with the one ``Plan:`` line."""
    lines = Lines()
    add_plan(lines, view, limit, how)
    if summary:
        lines.add((plan_line(view), "bold"))
    lines.print(console)


def render_apply(console: Console, report: Mapping[str, Any]) -> None:
    """The apply's outcome; identical failures grouped, long name lists summarised."""
    lines = Lines()
    if report["apply_id"] is None:
        lines.add("Nothing to apply: the staged log is empty.")
        lines.print(console)
        return
    commits: Sequence[int] = report["commits"]
    revs = f" (r{commits[0]}..r{commits[-1]})" if commits else ""
    style = "green" if report["status"] == "succeeded" else "red"
    lines.add(
        f"apply {report['apply_id']} ",
        (report["status"], f"bold {style}"),
        f": {count(len(commits))} commit(s){revs}, {count(len(report['failed']))} failed, "
        f"{count(len(report['skipped']))} skipped",
    )
    add_failures(lines, report["failures"])
    if report["skipped"]:
        lines.add(("skipped: " + name_list(report["skipped"]), "yellow"))
    lines.print(console)


def add_failures(lines: Lines, failures: Mapping[str, Mapping[str, Any]]) -> None:
    """One entry per distinct (exit code, error text): the resources that had it, then the text."""
    groups: dict[tuple[Any, str], list[str]] = {}
    for name, failure in sorted(failures.items()):
        key = (failure["exit_code"], str(failure["error"]).rstrip())
        groups.setdefault(key, []).append(name)
    for index, ((code, error), names) in enumerate(groups.items()):
        if index == FAILURE_GROUPS:
            rest = [n for group in list(groups.values())[index:] for n in group]
            lines.add((f"✗ {count(len(rest))} more failed, other errors: {name_list(rest)}", "red"))
            return
        who = names[0] if len(names) == 1 else f"{count(len(names))} resources: {name_list(names)}"
        lines.add((f"✗ {who} (exit {code})", "red"))
        lines.block(error, "dim", indent="  ")


def render_log(console: Console, commits: Sequence[Mapping[str, Any]]) -> None:
    lines = Lines()
    add_log(lines, commits)
    lines.print(console)


def add_log(lines: Lines, commits: Sequence[Mapping[str, Any]]) -> None:
    """Commits as one aligned listing: rev, time, who, apply, action, resource, inputs, why."""
    if not commits:
        lines.add("No commits.")
        return
    lines.table(
        (
            (
                str(c["rev"]),
                moment(c["timestamp"]),
                c["principal"],
                str(c["apply_id"] or "—"),
                action_piece(c["action"]),
                (c["resource"], "bold"),
                name_list(list(c["diff"]), VALUE_WIDTH) or "—",
                c["message"],
            )
            for c in commits
        ),
        header=("rev", "time", "principal", "apply", "action", "resource", "inputs", "message"),
        right=frozenset({0}),
    )


def add_commit(lines: Lines, c: Mapping[str, Any]) -> None:
    """One commit: its fields, then its diff in full."""
    lines.add(("rev ", "bold"), str(c["rev"]), "  ", action_piece(c["action"]))
    reverts = ", ".join(map(str, c["reverts"])) or None
    fields = [
        ("resource", c["resource"]),
        ("type", f"{c['type']} v{c['version']}"),
        ("apply", c["apply_id"]),
        ("principal", c["principal"]),
        ("time", c["timestamp"]),
        ("message", c["message"]),
        ("reverts", reverts),
        ("hash", c["hash"]),
    ]
    for label, value in fields:
        if value not in (None, ""):
            lines.add(f"{label:>10}  ", str(value))
    if c["diff"]:
        add_diff(lines, c["diff"], None)


def render_commit(console: Console, c: Mapping[str, Any]) -> None:
    lines = Lines()
    add_commit(lines, c)
    lines.print(console)


def render_state(
    console: Console,
    view: Mapping[str, Any],
    limit: int | None = LISTING,
    how: str = "`retrograde state --all` shows every one, `state RESOURCE` one",
) -> None:
    """``state``: a header, then each resource (capped) with its inputs, connections and tags.

    A listing of one resource shows its values in full.
    """
    resources = view["resources"]
    lines = Lines()
    lines.add(f"committed state at rev {view['rev']}: {count(len(resources))} resource(s)")
    width = VALUE_WIDTH if limit is not None and len(resources) > 1 else None
    shown = 0
    for name, rs in resources.items():
        if limit is not None and shown >= limit:
            break
        add_resource(lines, name, rs, width)
        shown += 1
    more(lines, shown, len(resources), "resource", how)
    lines.print(console)


def add_resource(lines: Lines, name: str, rs: Mapping[str, Any], width: int | None) -> None:
    tags = "".join(f"  {k}={v}" for k, v in rs["tags"].items())
    lines.add((name, "bold"), f"  {rs['type']} v{rs['version']}", tags)
    connections = rs["connections"]
    lines.table(
        (
            (
                input_name,
                value_text(value, width),
                (f"← {value_text(connections[input_name], width)}", "cyan")
                if connections.get(input_name) is not None
                else "",
            )
            for input_name, value in rs["inputs"].items()
        ),
        indent="    ",
    )
