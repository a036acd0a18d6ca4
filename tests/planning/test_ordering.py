"""Ordering: one action per change, each after the actions it must wait for, deterministically."""

from __future__ import annotations

import json

import pytest

from retrograde.errors import CycleError
from retrograde.model.change import ActionName
from retrograde.model.plan import Plan
from retrograde.model.state import ResourceState, State
from retrograde.planning.diffing import stage_changes
from retrograde.planning.ordering import plan_actions
from retrograde.planning.propagation import propagate
from tests.planning.resources import res


def plan(committed: State, desired: State) -> Plan:
    """Propagate both sides, stage the difference, and plan it, as ``stage`` + ``plan`` do."""
    before = propagate(committed)
    return plan_actions(stage_changes(before, propagate(desired)), before)


def keystone_move() -> tuple[dict[str, ResourceState], dict[str, ResourceState]]:
    """Committed: keystone1 on node1 behind haproxy. Desired: keystone2 on node2 instead."""
    nodes = {
        "node1": res({"ip": "10.20.0.2"}, type="node"),
        "node2": res({"ip": "10.20.0.3"}, type="node"),
    }
    committed = {
        **nodes,
        "keystone1": res({}, {"ip": "node1.ip"}),
        "haproxy": res({}, {"backends": ["keystone1.ip"]}, type="lb"),
    }
    desired = {
        **nodes,
        "keystone2": res({}, {"ip": "node2.ip"}),
        "haproxy": res({}, {"backends": ["keystone2.ip"]}, type="lb"),
    }
    return committed, desired


def assert_dependencies_first(result: Plan) -> None:
    position = {action.resource: i for i, action in enumerate(result.actions)}
    assert len(position) == len(result.actions)
    for i, action in enumerate(result.actions):
        assert all(position[dep] < i for dep in action.after), action


def test_keystone_move_is_exactly_three_actions() -> None:
    """Moving keystone gives run keystone2 -> update haproxy -> remove keystone1."""
    assert plan(*keystone_move()).to_json() == {
        "actions": [
            {"resource": "keystone2", "action": "run", "after": []},
            {"resource": "haproxy", "action": "update", "after": ["keystone2"]},
            {"resource": "keystone1", "action": "remove", "after": ["haproxy"]},
        ]
    }


def test_removal_waits_for_every_old_consumer() -> None:
    """Removing a producer waits for its old consumers' updates and removals, not for others."""
    committed = {
        "db": res({"host": "h"}),
        "api": res({}, {"db": "db.host"}),
        "worker": res({}, {"db": "db.host"}),
        "cache": res({"host": "c"}),
    }
    desired = {"api": res({"db": "h2"}), "cache": res({"host": "c2"})}
    assert plan(committed, desired).to_json() == {
        "actions": [
            {"resource": "api", "action": "update", "after": []},
            {"resource": "cache", "action": "update", "after": []},
            {"resource": "worker", "action": "remove", "after": []},
            {"resource": "db", "action": "remove", "after": ["api", "worker"]},
        ]
    }


def test_update_waits_for_new_producers_only() -> None:
    """An update waits for the producers it is connected from now, not the ones it left."""
    committed = {
        "old": res({"v": 1}),
        "new": res({"v": 1}),
        "c": res({}, {"v": "old.v"}),
    }
    desired = {"old": res({"v": 2}), "new": res({"v": 3}), "c": res({}, {"v": "new.v"})}
    result = plan(committed, desired)
    assert [a.to_json() for a in result.actions] == [
        {"resource": "new", "action": "update", "after": []},
        {"resource": "c", "action": "update", "after": ["new"]},
        {"resource": "old", "action": "update", "after": []},
    ]


def test_independent_actions_are_ordered_by_name() -> None:
    """Actions with no dependencies between them are listed in name order."""
    desired = {name: res({"x": 1}) for name in ["zeta", "alpha", "mid", "beta"]}
    result = plan({}, desired)
    assert [a.resource for a in result.actions] == ["alpha", "beta", "mid", "zeta"]
    assert all(a.action is ActionName.RUN and a.after == () for a in result.actions)


def test_after_lists_only_planned_resources_sorted() -> None:
    """Unchanged producers are left out of ``after``; planned ones are sorted by name."""
    desired = {
        "fixed": res({"v": 0}),
        "b": res({"v": 1}),
        "a": res({"v": 2}),
        "hub": res({}, {"xs": ["b.v", "fixed.v", "a.v"]}),
    }
    committed = {"fixed": desired["fixed"]}
    hub = plan(committed, desired).actions[-1]
    assert hub.resource == "hub"
    assert hub.after == ("a", "b")


def test_same_plan_from_differently_ordered_inputs() -> None:
    """Reversing the order of every input mapping gives the same plan, byte for byte."""
    committed, desired = keystone_move()
    committed["api"] = res({}, {"k": "keystone1.ip"})
    desired["api"] = res({}, {"k": "keystone2.ip"})
    desired["extra"] = res({"x": 1})
    forward = plan(committed, desired)
    backward = plan(dict(reversed(committed.items())), dict(reversed(desired.items())))
    changes = stage_changes(propagate(committed), propagate(desired))
    shuffled = plan_actions(dict(reversed(changes.items())), propagate(committed))
    expected = json.dumps(forward.to_json())
    assert json.dumps(backward.to_json()) == expected
    assert json.dumps(shuffled.to_json()) == expected
    assert [a.resource for a in forward.actions][-1] == "keystone1"


def test_cycle_among_changes_is_an_error_naming_them() -> None:
    """Changes whose connections form a cycle cannot be planned; the error names the resources."""
    changes = stage_changes(
        {}, {"a": res({"v": 1}, {"v": "b.v"}), "b": res({"v": 1}, {"v": "a.v"})}
    )
    with pytest.raises(CycleError) as caught:
        plan_actions(changes, {})
    assert caught.value.cycle == ("a", "b")


def test_empty_staged_log_gives_empty_plan() -> None:
    """Nothing staged means nothing to do."""
    assert plan_actions({}, {}).to_json() == {"actions": []}


def chain_and_fan_in(size: int) -> dict[str, ResourceState]:
    """Half a chain (each link connected from the previous), half leaves fanning into a hub."""
    half = size // 2
    state = {"c00000": res({"v": 0})}
    for i in range(1, half):
        state[f"c{i:05d}"] = res({}, {"v": f"c{i - 1:05d}.v"})
    for i in range(half - 1):
        state[f"leaf{i:05d}"] = res({}, {"v": f"c{i:05d}.v"})
    state["hub"] = res({}, {"vs": [f"leaf{i:05d}.v" for i in range(half - 1)]})
    return state


@pytest.mark.slow
def test_ten_thousand_resources_plan_in_dependency_order() -> None:
    """A 10,000-resource chain and fan-in runs in dependency order, and removes in reverse."""
    state = chain_and_fan_in(10_000)
    runs = plan({}, state)
    assert len(runs) == 10_000
    assert_dependencies_first(runs)
    assert runs.actions[-1].resource == "hub"
    assert len(runs.actions[-1].after) == 4_999
    removes = plan(state, {})
    assert len(removes) == 10_000
    assert_dependencies_first(removes)
    waits = {action.resource: action.after for action in removes.actions}
    assert waits["leaf00000"] == ("hub",)
    assert waits["c00000"] == ("c00001", "leaf00000")
    assert removes.actions[-1].resource == "c00000"
