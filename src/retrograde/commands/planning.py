"""Verbs that show what an apply would do: plan and graph."""

from __future__ import annotations

from collections.abc import Mapping

from retrograde.commands.context import Context
from retrograde.memory import gc_paused
from retrograde.model.change import Change
from retrograde.model.plan import Plan
from retrograde.planning.dot import plan_to_dot
from retrograde.planning.ordering import plan_actions


def plan_for(changes: Mapping[str, Change]) -> Plan:
    """The ordered actions for ``changes``.

    Each change carries its ``before`` state, which holds exactly the old-graph
    connections the planner needs, so no store read is required.
    """
    committed = {name: c.before for name, c in changes.items() if c.before is not None}
    return plan_actions(changes, committed)


def plan(ctx: Context) -> Plan:
    """The plan for the staged log."""
    with gc_paused(), ctx.store.read() as tx:
        return plan_for(tx.staged.load())


def graph(ctx: Context) -> str:
    """The plan for the staged log as a Graphviz DOT document."""
    return plan_to_dot(plan(ctx))
