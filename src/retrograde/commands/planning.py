"""Verbs that show what an apply would do: plan and graph, for all or part of the staged log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from retrograde.commands.context import Context
from retrograde.engine.requests import action_queue
from retrograde.memory import gc_paused
from retrograde.model.change import Change
from retrograde.model.plan import Plan, PlannedMove
from retrograde.planning.dot import GraphJSON, plan_graph, plan_to_dot, state_graph, state_to_dot
from retrograde.planning.ordering import plan_actions
from retrograde.planning.selection import TagPairs
from retrograde.planning.targeting import Targeting, narrowed, select


def plan_for(changes: Mapping[str, Change], moves: Sequence[Change] = ()) -> Plan:
    """The ordered actions for ``changes``, after the staged ``moves`` (in their order).

    Each change carries its ``before`` state, which holds exactly the old-graph
    connections the planner needs, so no store read is required (the changes
    name resources as after the moves, and their ``before`` is state after them).
    """
    committed = {name: c.before for name, c in changes.items() if c.before is not None}
    ordered = plan_actions(changes, committed)
    if not moves:
        return ordered
    return Plan(ordered.actions, tuple(PlannedMove(m.resource, str(m.moved_from)) for m in moves))


def selected(
    changes: Mapping[str, Change], targeting: Targeting, moves: Sequence[Change] = ()
) -> tuple[Plan, dict[str, Change]]:
    """The part of the plan for ``changes`` that ``targeting`` picks, and its changes.

    The whole plan is made first and then narrowed, so the selected actions
    keep the order the whole plan gives them (see :mod:`retrograde.planning.targeting`).
    The staged ``moves`` come with any selection: every staged change is named as after
    them.
    """
    whole = plan_for(changes, moves)
    if targeting.everything:
        return whole, dict(changes)
    names = select(whole, changes, targeting)
    return narrowed(whole, names), {name: changes[name] for name in names}


def queues(ctx: Context, plan: Plan) -> dict[str, str | None]:
    """The queue each of ``plan``'s actions is sent to under ``--executor celery`` (None: the
    default queue), as the apply would route it."""
    with ctx.store.read() as tx:
        changes = tx.staged.load()
        types = tx.state.types()
    return {a.resource: action_queue(changes[a.resource], types) for a in plan.actions}


def plan(
    ctx: Context,
    *,
    targets: Iterable[str] = (),
    tags: TagPairs = (),
    exclude: Iterable[str] = (),
) -> Plan:
    """The plan for the staged log, or for the part that ``targets``/``tags``/``exclude`` pick.

    A target brings the actions it needs along (its producers', and for a
    removal its former consumers'); an excluded resource that a selected one
    needs is an :class:`ExcludedNeededError`. Unknown names are a
    :class:`NotFoundError`.
    """
    with gc_paused():
        with ctx.store.read() as tx:
            changes, moves = tx.staged.load(), tx.staged.moves()
        return selected(changes, Targeting.of(targets, tags, exclude), moves)[0]


class Graph(NamedTuple):
    """What ``graph`` draws, as Graphviz DOT and as nodes and edges (``graph --json``)."""

    dot: str
    nodes_edges: GraphJSON


def graph(
    ctx: Context,
    *,
    targets: Iterable[str] = (),
    tags: TagPairs = (),
    exclude: Iterable[str] = (),
    state: bool = False,
) -> Graph:
    """The plan (or its selected part, as for :func:`plan`) as a graph; with ``state``,
    committed state instead: every resource and its connections."""
    if state:
        with ctx.store.read() as tx:
            resources = tx.state.load()
        return Graph(state_to_dot(resources), state_graph(resources))
    with gc_paused():
        with ctx.store.read() as tx:
            changes = tx.staged.load()
        chosen, selected_changes = selected(changes, Targeting.of(targets, tags, exclude))
    return Graph(plan_to_dot(chosen), plan_graph(chosen, selected_changes))
