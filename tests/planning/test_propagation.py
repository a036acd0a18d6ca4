"""Propagation: values flow from producers into connected inputs and list elements."""

from __future__ import annotations

import pytest

from retrograde.errors import CycleError, UnknownReferenceError
from retrograde.model.state import ResourceState
from retrograde.planning.propagation import propagate
from tests.planning.resources import res


def keystone_state(ip: str = "10.20.0.2") -> dict[str, ResourceState]:
    return {
        "haproxy": res(
            {"backends": [None, "10.0.0.9"], "port": 80},
            {"backends": ["keystone1.ip", None]},
            type="lb",
        ),
        "keystone1": res({"ip": None, "port": 5000}, {"ip": "node1.ip"}),
        "node1": res({"ip": ip}, type="node"),
        "node2": res({"ip": "10.20.0.3"}, type="node"),
    }


def test_values_flow_through_three_levels_into_list_elements() -> None:
    """node1.ip reaches keystone1.ip and then haproxy.backends[0], keeping literal elements."""
    out = propagate(keystone_state())
    assert out["keystone1"].inputs == {"ip": "10.20.0.2", "port": 5000}
    assert out["haproxy"].inputs == {"backends": ["10.20.0.2", "10.0.0.9"], "port": 80}


def test_consumer_listed_before_producer_still_resolves() -> None:
    """Mapping order does not matter: a chain given consumer-first resolves fully."""
    state = {
        "c": res({}, {"x": "b.x"}),
        "b": res({}, {"x": "a.x"}),
        "a": res({"x": 7}),
    }
    out = propagate(state)
    assert out["c"].inputs == {"x": 7}
    assert list(out) == ["c", "b", "a"]


def test_untouched_resources_keep_identity() -> None:
    """Resources whose inputs do not change come back as the same objects."""
    state = propagate(keystone_state())
    again = propagate(state)
    assert all(again[name] is state[name] for name in state)
    original = keystone_state()
    out = propagate(original)
    assert out["node1"] is original["node1"]
    assert out["node2"] is original["node2"]
    assert out["keystone1"] is not original["keystone1"]


def test_only_changed_downstream_resources_are_replaced() -> None:
    """Changing node1.ip on a resolved state replaces node1's consumers and nothing else."""
    resolved = propagate(keystone_state())
    edited = {**resolved, "node1": res({"ip": "10.20.0.99"}, type="node")}
    out = propagate(edited)
    assert out["haproxy"].inputs["backends"] == ["10.20.0.99", "10.0.0.9"]
    assert out["keystone1"] is not resolved["keystone1"]
    assert out["node2"] is resolved["node2"]


def test_connected_input_missing_from_inputs_is_filled() -> None:
    """A connected input that the consumer does not list yet gets the producer's value."""
    state = {"a": res({"x": [1, 2]}), "b": res({}, {"y": "a.x", "z": ["a.x", None]})}
    out = propagate(state)
    assert out["b"].inputs == {"y": [1, 2], "z": [[1, 2], None]}


def test_other_fields_are_kept() -> None:
    """Propagation changes only inputs: type, version, connections and tags stay."""
    consumer = ResourceState(
        type="svc", version=3, inputs={}, connections={"ip": "n.ip"}, tags={"node": "n"}
    )
    out = propagate({"n": res({"ip": "1.2.3.4"}), "c": consumer})["c"]
    assert (out.type, out.version, out.tags) == ("svc", 3, {"node": "n"})
    assert out.connections == {"ip": "n.ip"}


def test_dotted_resource_names_resolve() -> None:
    """A reference splits at its last dot, so resource names may contain dots."""
    state = {"db.primary": res({"host": "h1"}), "app": res({}, {"db": "db.primary.host"})}
    assert propagate(state)["app"].inputs == {"db": "h1"}


def test_missing_producer_names_consumer_and_reference() -> None:
    """A connection to an absent resource raises UnknownReferenceError naming both sides."""
    state = {"keystone1": res({}, {"ip": "node9.ip"})}
    with pytest.raises(UnknownReferenceError) as caught:
        propagate(state)
    assert caught.value.resource == "keystone1"
    assert caught.value.input == "ip"
    assert "${node9.ip}" in str(caught.value)
    assert "no resource 'node9'" in str(caught.value)


def test_missing_producer_input_in_list_element_is_an_error() -> None:
    """A list element connected to an input the producer lacks raises UnknownReferenceError."""
    state = {
        "keystone1": res({"ip": "1.1.1.1"}),
        "haproxy": res({}, {"backends": [None, "keystone1.address"]}),
    }
    with pytest.raises(UnknownReferenceError) as caught:
        propagate(state)
    assert caught.value.resource == "haproxy"
    assert caught.value.input == "backends"
    assert "${keystone1.address}" in str(caught.value)
    assert "has no input 'address'" in str(caught.value)


def test_cycle_names_every_resource_on_it() -> None:
    """Connections a -> b -> c -> a raise CycleError listing a, b and c."""
    state = {
        "a": res({}, {"x": "c.x"}),
        "b": res({}, {"x": "a.x"}),
        "c": res({}, {"x": "b.x"}),
        "d": res({"x": 1}),
    }
    with pytest.raises(CycleError) as caught:
        propagate(state)
    assert sorted(caught.value.cycle) == ["a", "b", "c"]


def test_empty_state_propagates_to_empty() -> None:
    """An empty state is a valid state with nothing to resolve."""
    assert propagate({}) == {}


def test_a_value_of_another_json_type_propagates() -> None:
    """1 becoming true upstream reaches the consumer although Python says 1 == True."""
    producer = ResourceState("t", 1, {"flag": True})
    consumer = ResourceState("t", 1, {"flag": 1}, {"flag": "p.flag"})
    resolved = propagate({"p": producer, "c": consumer})
    assert resolved["c"].inputs["flag"] is True
