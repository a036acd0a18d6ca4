"""Propagation: values flow from producers to the inputs connected to them.

A resource's connected inputs (or connected list elements) take the resolved
value of the producer's input. Producers are resolved before their consumers,
so a value travels any number of hops (``node1.ip -> keystone1.ip ->
haproxy.backends[0]``). The same function serves staging (a stack file's
desired state) and reversal (reverted values in committed state, re-propagated).
"""

from __future__ import annotations

from collections.abc import Mapping

from retrograde.errors import UnknownReferenceError
from retrograde.model.jsonvalue import JSON, same_json
from retrograde.model.state import ConnectionSlot, ResourceState, parse_ref, producers
from retrograde.planning.graph import topological_order


def propagate(state: Mapping[str, ResourceState]) -> dict[str, ResourceState]:
    """``state`` with every connected input set to its producer's resolved value.

    Resources whose inputs do not change are returned as the very same objects,
    so callers can compare by identity. The result keeps ``state``'s key order.
    JSON values are shared, not copied: treat them as immutable.

    Raises :class:`UnknownReferenceError` when a connection names a missing
    resource or input, and :class:`CycleError` when connections form a cycle.
    Linear in resources plus connections (plus inputs of connected resources).
    """
    order = topological_order({name: producers(res.connections) for name, res in state.items()})
    resolved: dict[str, ResourceState] = {}
    for name in order:
        resolved[name] = _resolve(name, state[name], resolved)
    return {name: resolved[name] for name in state}


def _resolve(
    name: str, resource: ResourceState, resolved: Mapping[str, ResourceState]
) -> ResourceState:
    """``resource`` with its connected inputs filled in from already-resolved producers."""
    if not resource.connections:
        return resource
    inputs = dict(resource.inputs)
    changed = False
    for input_name, slot in resource.connections.items():
        value = _slot_value(name, input_name, slot, inputs.get(input_name), resolved)
        if input_name not in inputs or not same_json(inputs[input_name], value):
            inputs[input_name] = value
            changed = True
    if not changed:
        return resource
    # Built directly rather than with dataclasses.replace, which is several
    # times slower and this runs once per connected resource.
    return ResourceState(
        type=resource.type,
        version=resource.version,
        inputs=inputs,
        connections=resource.connections,
        tags=resource.tags,
    )


def _slot_value(
    consumer: str,
    input_name: str,
    slot: ConnectionSlot,
    current: JSON,
    resolved: Mapping[str, ResourceState],
) -> JSON:
    """The value of one connected input; literal list elements are kept from ``current``."""
    if isinstance(slot, str):
        return _lookup(consumer, input_name, slot, resolved)
    literals = current if isinstance(current, list) else []
    return [
        _lookup(consumer, input_name, ref, resolved)
        if ref is not None
        else (literals[index] if index < len(literals) else None)
        for index, ref in enumerate(slot)
    ]


def _lookup(
    consumer: str, input_name: str, ref: str, resolved: Mapping[str, ResourceState]
) -> JSON:
    """The resolved value ``ref`` names, or an error naming consumer and reference."""
    producer, producer_input = parse_ref(ref)
    source = resolved.get(producer)
    if source is not None and producer_input in source.inputs:
        return source.inputs[producer_input]
    missing = (
        f"there is no resource {producer!r}"
        if source is None
        else f"resource {producer!r} has no input {producer_input!r}"
    )
    raise UnknownReferenceError(
        f"{consumer}.{input_name} is connected to ${{{ref}}}, but {missing}",
        resource=consumer,
        input=input_name,
    )
