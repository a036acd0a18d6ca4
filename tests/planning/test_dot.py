"""DOT rendering: a plan as a deterministic Graphviz digraph."""

from __future__ import annotations

from retrograde.model.change import ActionName
from retrograde.model.plan import Plan, PlannedAction
from retrograde.planning.dot import plan_to_dot, quote

KEYSTONE_MOVE = Plan(
    (
        PlannedAction("keystone2", ActionName.RUN),
        PlannedAction("haproxy", ActionName.UPDATE, ("keystone2",)),
        PlannedAction("keystone1", ActionName.REMOVE, ("haproxy",)),
    )
)


def test_keystone_move_golden() -> None:
    """The keystone move renders to exactly this DOT text."""
    assert plan_to_dot(KEYSTONE_MOVE) == (
        "digraph plan {\n"
        "  rankdir=LR;\n"
        '  node [shape=box, style="rounded,filled"];\n'
        '  "keystone2" [label="keystone2\\nrun", fillcolor=palegreen];\n'
        '  "haproxy" [label="haproxy\\nupdate", fillcolor=lightskyblue];\n'
        '  "keystone1" [label="keystone1\\nremove", fillcolor=lightcoral];\n'
        '  "keystone2" -> "haproxy";\n'
        '  "haproxy" -> "keystone1";\n'
        "}\n"
    )


def test_edges_go_from_each_dependency_to_its_dependent_in_order() -> None:
    """An action waiting for two others gets one edge from each, in its ``after`` order."""
    plan = Plan(
        (
            PlannedAction("a", ActionName.RUN),
            PlannedAction("b", ActionName.RUN),
            PlannedAction("hub", ActionName.UPDATE, ("a", "b")),
        )
    )
    edges = [line for line in plan_to_dot(plan).splitlines() if "->" in line]
    assert edges == ['  "a" -> "hub";', '  "b" -> "hub";']


def test_names_with_quotes_backslashes_and_newlines_are_escaped() -> None:
    """Quotes, backslashes and newlines in a name cannot break out of the DOT string."""
    assert quote('we"ird') == '"we\\"ird"'
    assert quote("back\\slash") == '"back\\\\slash"'
    assert quote("two\nlines") == '"two\\nlines"'
    plan = Plan((PlannedAction('a"b', ActionName.REMOVE),))
    assert '  "a\\"b" [label="a\\"b\\nremove", fillcolor=lightcoral];' in plan_to_dot(plan)


def test_empty_plan_is_an_empty_digraph() -> None:
    """A plan with no actions is still a valid digraph."""
    dot = plan_to_dot(Plan(()))
    assert dot.startswith("digraph plan {\n")
    assert dot.endswith("}\n")
    assert "->" not in dot and "label" not in dot
