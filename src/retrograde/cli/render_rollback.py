"""Text renderings for revert, rollback, checkpoints and revision diffs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from retrograde.cli.caps import LISTING, PREVIEW, more
from retrograde.cli.render import action_counts, add_changes, add_plan, plan_line
from retrograde.cli.text import Lines, count, moment, revision_ranges

if TYPE_CHECKING:
    from rich.console import Console  # the type only: rich.console is slow to import

LISTED_REVISIONS = 8
"""Reverted revisions named one by one; more are written as ranges (``revisions 12-20,011``)."""


def target_text(target: Mapping[str, Any]) -> str:
    """``rev 12`` or ``rev 12 (checkpoint before-upgrade)``."""
    named = f" (checkpoint {target['checkpoint']})" if target.get("checkpoint") else ""
    return f"rev {target['rev']}{named}"


def reverted_text(revs: Sequence[int]) -> str:
    """``rev 5, 6, 7`` for a few revisions; ``revisions 12-20,012`` for many."""
    if len(revs) <= LISTED_REVISIONS:
        return f"rev {', '.join(map(str, revs))}"
    return f"revisions {revision_ranges(revs)}"


def render_preview(console: Console, view: Mapping[str, Any], verb: str) -> None:
    """What a revert or rollback staged (the first changes), the plan (capped), what next."""
    if view["reverts"]:
        what = f"{verb} {reverted_text(view['reverts'])}"
    else:
        what = f"{verb} to {target_text(view['target'])}"
    lines = Lines()
    staged = view["staged"]
    moves = view.get("moves", ())
    for move in moves:
        done = "staged the rename of" if staged else "would stage the rename of"
        lines.add(f"{what}: {done} {move['from']} back to {move['to']} (a move, no handler).")
    changes = view["changes"]
    if not changes and not moves:
        lines.add(f"{what}: nothing to change, committed state already matches.")
        lines.print(console)
        return
    if changes:
        lines.add((f"{what}:", "bold"), f" {count(len(changes))} change(s)")
        shown = add_changes(lines, changes, PREVIEW)
        more(lines, shown, len(changes), "change", _how(staged, "diff", "changes"))
        lines.blank()
    add_plan(lines, view["plan"], PREVIEW, _how(staged, "plan", "plan"))
    lines.add((plan_line(view["plan"]), "bold"))
    if staged:
        renames = f"{count(len(moves))} rename(s) and " if moves else ""
        lines.add(
            f"Staged {renames}{count(len(changes))} change(s); "
            "run `retrograde apply` to carry them out."
        )
    else:
        lines.add("Dry run: nothing was staged.")
    lines.print(console)


def _how(staged: bool, verb: str, field: str) -> str:
    if staged:
        return f"`retrograde {verb} --all` lists every one"
    return f"`--json` has every one, under {field!r}"


def render_checkpoints(console: Console, view: Mapping[str, Any]) -> None:
    checkpoints = view["checkpoints"]
    lines = Lines()
    if not checkpoints:
        lines.add("No checkpoints.")
    else:
        lines.table(
            (
                (
                    (c["name"], "bold"),
                    str(c["rev"]),
                    moment(c["timestamp"]),
                    c["principal"],
                    c["description"],
                )
                for c in checkpoints
            ),
            header=("name", "rev", "time", "principal", "description"),
        )
    lines.print(console)


def render_checkpoint(console: Console, view: Mapping[str, Any]) -> None:
    lines = Lines()
    lines.add(f"Checkpoint {view['name']!r} names rev {view['rev']}.")
    lines.print(console)


def render_revision_diff(
    console: Console,
    view: Mapping[str, Any],
    limit: int | None = LISTING,
    how: str = "`--all` shows every one, `--limit N` the first N",
) -> None:
    """What differs between two revisions: the counts, then the first ``limit`` resources."""
    span = f"from {target_text(view['from'])} to {target_text(view['to'])}"
    changes = view["changes"]
    lines = Lines()
    if not changes:
        lines.add(f"No changes {span}.")
    else:
        actions = action_counts(c["action"] for c in changes.values())
        lines.add(
            (f"Changes {span}:", "bold"),
            f" {count(len(changes))} resource(s) differ ({actions}).",
        )
        shown = add_changes(lines, changes, limit)
        more(lines, shown, len(changes), "resource", how)
    lines.print(console)
