"""Text renderings of the history views: log pages, show, applies, blame, verify, transfers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from retrograde.cli.render import action_piece, add_commit, add_log, value_text
from retrograde.cli.text import Lines, moment
from retrograde.model.reports import ClearSecret

if TYPE_CHECKING:
    from rich.console import Console  # the type only: rich.console is slow to import

STATUS_STYLE = {"succeeded": "green", "failed": "red", "running": "yellow", "interrupted": "red"}


def render_log_page(console: Console, view: Mapping[str, Any]) -> None:
    """The log listing, then how to ask for the next page when there is one."""
    lines = Lines()
    add_log(lines, view["commits"])
    _next_page(lines, view)
    lines.print(console)


def render_show(console: Console, view: Mapping[str, Any]) -> None:
    """One commit with its diff, and its connections and tags where they changed."""
    lines = Lines()
    add_commit(lines, view)
    for label in ("connections", "tags"):
        sides = view[label]
        before, after = sides.get("before"), sides.get("after")
        if before != after:
            lines.add(f"{label:>10}  {value_text(before)} → {value_text(after)}")
    lines.print(console)


def render_applies(console: Console, view: Mapping[str, Any]) -> None:
    applies = view["applies"]
    lines = Lines()
    if not applies:
        lines.add("No applies.")
        lines.print(console)
        return
    header = ("apply", "kind", "started", "ended", "principal", "status", "ok", "failed", "skipped")
    lines.table(
        (
            (
                str(a["id"]),
                a["kind"],
                moment(a["started_at"]),
                moment(a["ended_at"]),
                a["principal"],
                (a["status"], STATUS_STYLE.get(a["status"], "")),
                str(a["succeeded"]),
                str(a["failed"]),
                str(a["skipped"]),
                a["message"],
            )
            for a in applies
        ),
        header=(*header, "message"),
        right=frozenset({0, 6, 7, 8}),
    )
    _next_page(lines, view)
    lines.print(console)


def render_blame(console: Console, view: Mapping[str, Any]) -> None:
    lines = Lines()
    lines.add((view["resource"], "bold"), f"  {view['type']}")
    rows = []
    for name, entry in view["inputs"].items():
        known = entry["rev"] is not None
        rows.append(
            (
                (name, "bold"),
                value_text(entry["value"]),
                str(entry["rev"]) if known else "—",
                action_piece(entry["action"]) if known else "—",
                moment(entry["timestamp"]),
                entry["principal"] or "—",
                str(entry["apply_id"] or "—"),
                entry["message"] or "",
            )
        )
    header = ("input", "value", "rev", "action", "time", "principal", "apply", "message")
    lines.table(rows, header=header)
    lines.print(console)


def render_verify(console: Console, view: Mapping[str, Any]) -> None:
    head = view["head"]
    checked = (
        f"{view['commits']} commit(s) up to rev {head['rev']}, {view['resources']} resource(s)"
    )
    lines = Lines()
    if view["ok"]:
        lines.add(("verified", "bold green"), f": {checked}")
        lines.add((f"head hash {head['hash']}", "dim"))
        _chain_lines(lines, view)
    else:
        lines.add(("verification failed", "bold red"), f": {checked}")
        for problem in view["problems"]:
            lines.add((f"✗ {_where(problem)}: {problem['detail']}", "red"))
    for upgrade in view.get("chain_upgrades", ()):
        lines.add(
            f"chain upgrade at {upgrade['at']}: rev {upgrade['old_rev']} hash "
            f"{upgrade['old_hash']} became {upgrade['new_hash']} ({upgrade['reason']})"
        )
    for clear in view.get("clear_secrets", ()):
        lines.add((ClearSecret.from_json(clear).line(), "yellow"))
    lines.print(console)


def _chain_lines(lines: Lines, view: Mapping[str, Any]) -> None:
    """The chain head and whether (and by which keys) the store is signed."""
    chain, signing = view.get("chain"), view.get("signing")
    if chain is None or signing is None:
        return
    lines.add(
        (
            f"chain head rev {chain['rev']} entry {chain['seq']}: {chain['rev']}:{chain['hash']}",
            "dim",
        )
    )
    if not signing["signed"]:
        lines.add(("unsigned: no signatures (set RETROGRADE_SIGNING_KEY to sign)", "yellow"))
        return
    trusted = " by trusted keys" if signing["trusted"] else ""
    last = signing["last_signed"]
    lines.add(
        f"signed{trusted}: {signing['signatures']} signature(s) by key(s) "
        f"{', '.join(signing['keys'])}, last at rev {last['rev']} entry {last['seq']}"
    )


def render_transfer(console: Console, verb: str, view: Mapping[str, Any], where: str) -> None:
    lines = Lines()
    if view["first_rev"] is None:
        lines.add(f"{verb}: no new commits ({where} is up to date)")
    else:
        lines.add(
            f"{verb} {view['commits']} commit(s), rev {view['first_rev']}..{view['last_rev']}, "
            f"{view['applies']} apply record(s), {view['types']} type(s): {where}"
        )
    if view.get("warning"):
        lines.add((f"warning: {view['warning']}", "yellow"))
    lines.print(console)


def _next_page(lines: Lines, view: Mapping[str, Any]) -> None:
    if view["next"] is not None:
        lines.add((f"more: add --before {view['next']} for the next page", "dim"))


def _where(problem: Mapping[str, Any]) -> str:
    parts = [f"rev {problem['rev']}"] if problem["rev"] is not None else []
    if problem["resource"] is not None:
        parts.append(f"resource {problem['resource']!r}")
    return ", ".join(parts) or "store"
