"""Ordering: the plan for a staged log, one action per changed resource.

Rules (docs/design.md, "Planning"): ``run``/``update`` of B waits for the actions of every
resource B is connected from in the new graph; ``remove`` of A waits for the
actions of every resource that was connected from A in the old graph, so
consumers stop using A before A goes. Moving keystone from node1 to node2 is
therefore three actions: run keystone2 -> update haproxy -> remove keystone1.
"""

from __future__ import annotations

from collections.abc import Mapping

from retrograde.model.change import ActionName, Change
from retrograde.model.plan import Plan, PlannedAction
from retrograde.model.state import State, producers
from retrograde.planning.diffing import consumers
from retrograde.planning.graph import topological_order


def plan_actions(changes: Mapping[str, Change], committed: State) -> Plan:
    """The actions for ``changes`` in a valid execution order, ties broken by name.

    ``committed`` is the state the changes start from; its connections are the
    old graph that removals wait on. Each action's ``after`` names only
    resources in the plan, sorted. Deterministic: the same changes and state
    give the same plan whatever the mapping order. Raises :class:`CycleError`
    naming the resources when the waits form a cycle. Linear in resources plus
    connections (plus a log factor for the name-ordered tie-break).
    """
    old_consumers = consumers(committed)
    waits = {
        name: _waits_for(name, change, changes, old_consumers) for name, change in changes.items()
    }
    return Plan(
        tuple(
            PlannedAction(resource=name, action=changes[name].action, after=waits[name])
            for name in topological_order(waits)
        )
    )


def _waits_for(
    name: str,
    change: Change,
    changes: Mapping[str, Change],
    old_consumers: Mapping[str, set[str]],
) -> tuple[str, ...]:
    """The planned resources whose actions must finish before ``change``'s, sorted."""
    if change.action is ActionName.REMOVE or change.after is None:
        deps: set[str] = old_consumers.get(name, set())
    else:
        deps = producers(change.after.connections)
    return tuple(sorted(dep for dep in deps if dep in changes and dep != name))
