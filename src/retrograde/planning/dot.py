"""Graphviz DOT for a plan: one box per action, an arrow from each dependency.

Used by ``graph`` and the later web page; the text is deterministic so it can
be compared and cached.
"""

from __future__ import annotations

from retrograde.model.change import ActionName
from retrograde.model.plan import Plan, PlannedAction

ACTION_COLOURS: dict[ActionName, str] = {
    ActionName.RUN: "palegreen",
    ActionName.UPDATE: "lightskyblue",
    ActionName.REMOVE: "lightcoral",
    ActionName.MIGRATE: "plum",
}
"""Fill colour per action (X11 colour names, understood by every Graphviz)."""


def plan_to_dot(plan: Plan) -> str:
    """``digraph plan { ... }``: nodes in plan order, then edges dependency -> dependent."""
    lines = [
        "digraph plan {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled"];',
    ]
    lines += [_node_line(action) for action in plan.actions]
    lines += [
        f"  {quote(dep)} -> {quote(action.resource)};"
        for action in plan.actions
        for dep in action.after
    ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_line(action: PlannedAction) -> str:
    """One node: labelled ``resource`` over ``action``, filled with the action's colour."""
    label = quote(action.resource)[:-1] + "\\n" + action.action.value + '"'
    colour = ACTION_COLOURS.get(action.action, "white")
    return f"  {quote(action.resource)} [label={label}, fillcolor={colour}];"


def quote(text: str) -> str:
    """``text`` as a DOT double-quoted string, with backslashes, quotes and newlines escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
