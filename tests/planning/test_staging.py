"""Staging: the staged log is the per-resource difference between committed and desired state."""

from __future__ import annotations

from typing import Any

from retrograde.model.change import ActionName
from retrograde.model.state import ConnectionSlot, ResourceState
from retrograde.planning.diffing import consumers, stage_changes
from retrograde.planning.propagation import propagate


def res(
    inputs: dict[str, Any] | None = None,
    connections: dict[str, ConnectionSlot] | None = None,
    tags: dict[str, str] | None = None,
    type: str = "service",
) -> ResourceState:
    return ResourceState(
        type=type,
        version=1,
        inputs=inputs or {},
        connections=connections or {},
        tags=tags or {},
    )


def deployment(node1_ip: str) -> dict[str, ResourceState]:
    """node1 -> keystone1 -> haproxy (list element), plus an unrelated node2, resolved."""
    return propagate(
        {
            "node1": res({"ip": node1_ip}, type="node"),
            "node2": res({"ip": "10.20.0.3"}, type="node"),
            "keystone1": res({"ip": None}, {"ip": "node1.ip"}),
            "haproxy": res({"backends": []}, {"backends": ["keystone1.ip"]}, type="lb"),
        }
    )


def test_actions_are_inferred_from_presence_and_difference() -> None:
    """New is run, gone is remove, different is update, and the log is ordered by name."""
    committed = {"b_old": res({"x": 1}), "c_same": res({"x": 1}), "d_edit": res({"x": 1})}
    desired = {"a_new": res({"x": 1}), "c_same": res({"x": 1}), "d_edit": res({"x": 2})}
    changes = stage_changes(committed, desired)
    assert list(changes) == ["a_new", "b_old", "d_edit"]
    assert {n: c.action for n, c in changes.items()} == {
        "a_new": ActionName.RUN,
        "b_old": ActionName.REMOVE,
        "d_edit": ActionName.UPDATE,
    }
    assert changes["a_new"].diff == {"x": {"from": None, "to": 1}}
    assert changes["b_old"].diff == {"x": {"from": 1, "to": None}}
    assert changes["d_edit"].diff == {"x": {"from": 1, "to": 2}}


def test_tag_only_change_is_an_update_with_empty_diff() -> None:
    """A resource whose only difference is a tag is staged as an update."""
    changes = stage_changes(
        {"n": res({"x": 1}, tags={"node": "a"})}, {"n": res({"x": 1}, tags={"node": "b"})}
    )
    assert changes["n"].action is ActionName.UPDATE
    assert changes["n"].diff == {}
    assert changes["n"].after is not None and changes["n"].after.tags == {"node": "b"}


def test_connection_only_change_is_an_update() -> None:
    """Re-pointing a connection at a producer with the same value still stages an update."""
    committed = {"c": res({"ip": "1"}, {"ip": "a.ip"})}
    desired = {"c": res({"ip": "1"}, {"ip": "b.ip"})}
    assert stage_changes(committed, desired)["c"].action is ActionName.UPDATE


def test_identical_states_stage_nothing() -> None:
    """Equal committed and desired states give an empty staged log."""
    assert stage_changes(deployment("10.20.0.2"), deployment("10.20.0.2")) == {}


def test_changing_a_producer_stages_its_consumers_transitively() -> None:
    """Changing node1.ip stages node1, keystone1 and haproxy with the new value in each diff."""
    changes = stage_changes(deployment("10.20.0.2"), deployment("10.20.0.7"))
    assert list(changes) == ["haproxy", "keystone1", "node1"]
    assert all(c.action is ActionName.UPDATE for c in changes.values())
    assert changes["node1"].diff == {"ip": {"from": "10.20.0.2", "to": "10.20.0.7"}}
    assert changes["keystone1"].diff == {"ip": {"from": "10.20.0.2", "to": "10.20.0.7"}}
    assert changes["haproxy"].diff == {"backends": {"from": ["10.20.0.2"], "to": ["10.20.0.7"]}}


def test_consumers_is_the_reverse_index_of_connections() -> None:
    """Each producer maps to every resource connected from it, via inputs or list elements."""
    state = {
        "node1": res({"ip": "1"}),
        "keystone1": res({}, {"ip": "node1.ip"}),
        "keystone2": res({}, {"ip": "node1.ip", "port": "node1.port"}),
        "haproxy": res({}, {"backends": ["keystone1.ip", None, "keystone2.ip"]}),
    }
    assert consumers(state) == {
        "node1": {"keystone1", "keystone2"},
        "keystone1": {"haproxy"},
        "keystone2": {"haproxy"},
    }


def test_consumers_of_unconnected_state_is_empty() -> None:
    """A state without connections has no producers in its reverse index."""
    assert consumers({"a": res({"x": 1}), "b": res()}) == {}
