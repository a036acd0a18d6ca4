"""The graphs ``graph`` draws: a plan (one box per action, an arrow from each dependency)
or committed state (one box per resource, an arrow per connection), as Graphviz DOT and
as nodes and edges for ``graph --json``.

Used by ``graph`` and the later web page; the output is deterministic so it can
be compared and cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from retrograde.model.change import ActionName, Change
from retrograde.model.plan import Plan, PlannedAction
from retrograde.model.state import Connections, ResourceState, iter_refs

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


class GraphNode(TypedDict, total=False):
    """One node of ``graph --json``: a resource, with its action in a plan's graph."""

    id: str
    type: str
    tags: dict[str, str]
    action: str


GraphJSON = dict[str, list[Any]]
"""``{"nodes": [GraphNode, ...], "edges": [{"from", "to", "input"}, ...]}``."""


def state_graph(resources: Mapping[str, ResourceState]) -> GraphJSON:
    """Committed state as nodes (sorted by name) and one edge per connecting input:
    producer -> consumer."""
    nodes = [_node(name, rs) for name, rs in sorted(resources.items())]
    edges = [
        _edge(producer, name, input_name)
        for name, rs in sorted(resources.items())
        for producer, input_name in _connections_from(rs.connections)
    ]
    return {"nodes": nodes, "edges": edges}


def plan_graph(plan: Plan, changes: Mapping[str, Change]) -> GraphJSON:
    """A plan as nodes (in plan order, with their action) and an edge from each dependency.

    An edge's ``input`` is the input through which the later resource takes
    from the earlier one (new connections), or through which the earlier one
    took from a resource being removed (old connections).
    """
    nodes: list[GraphNode] = []
    for action in plan.actions:
        node = _node(action.resource, changes[action.resource].type_state)
        node["action"] = action.action.value
        nodes.append(node)
    edges = [
        _edge(dep, action.resource, input_name)
        for action in plan.actions
        for dep in action.after
        for input_name in _inputs_between(dep, action.resource, changes)
    ]
    return {"nodes": nodes, "edges": edges}


def state_to_dot(resources: Mapping[str, ResourceState]) -> str:
    """``digraph state { ... }``: a box per resource (name over type), an arrow per
    connection, labelled with the consumer's input."""
    graph = state_graph(resources)
    lines = ["digraph state {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    for node in graph["nodes"]:
        label = quote(node["id"])[:-1] + "\\n" + quote(node["type"])[1:]
        lines.append(f"  {quote(node['id'])} [label={label}];")
    for edge in graph["edges"]:
        lines.append(
            f"  {quote(edge['from'])} -> {quote(edge['to'])} [label={quote(edge['input'])}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(name: str, rs: ResourceState) -> GraphNode:
    return {"id": name, "type": rs.type, "tags": dict(rs.tags)}


def _edge(producer: str, consumer: str, input_name: str | None) -> dict[str, Any]:
    """``from`` comes before (or feeds) ``to``; ``input`` is the consumer's input connecting
    them (``None`` when no single input does)."""
    return {"from": producer, "to": consumer, "input": input_name}


def _connections_from(connections: Connections) -> list[tuple[str, str]]:
    """``(producer, input)`` once per input and producer (a fan-in list may name one twice)."""
    seen: dict[tuple[str, str], None] = {}
    for input_name, _index, producer, _output in iter_refs(connections):
        seen[(producer, input_name)] = None
    return list(seen)


def _inputs_between(first: str, then: str, changes: Mapping[str, Change]) -> list[str | None]:
    """The inputs that order ``first`` before ``then``; ``[None]`` when none is known."""
    later, earlier = changes.get(then), changes.get(first)
    if later is not None and later.after is not None:
        taken = [i for p, i in _connections_from(later.after.connections) if p == first]
        if taken:
            return list(taken)
    if earlier is not None and earlier.before is not None:
        gave = [i for p, i in _connections_from(earlier.before.connections) if p == then]
        if gave:
            return list(gave)
    return [None]
