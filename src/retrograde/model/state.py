"""A resource's state: resolved inputs, the connections they came from, tags.

The same value describes committed state (the store), desired state (a stack
file after values flowed through connections) and state at any revision.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, TypedDict

from retrograde.model.jsonvalue import JSON, Raw
from retrograde.model.types import TypeKey

ConnectionSlot = str | list[str | None]
"""Where an input's value comes from: ``"producer.input"``, or for a list input a
list with one entry per element (``None`` for a literal element)."""

Connections = Mapping[str, ConnectionSlot]

Tags = Mapping[str, str]
"""A resource's tags, e.g. ``{"node": "node1"}``."""


def parse_ref(ref: str) -> tuple[str, str]:
    """``"keystone1.ip"`` -> ``("keystone1", "ip")``; resource names may contain dots."""
    resource, _, input_name = ref.rpartition(".")
    return resource, input_name


def iter_refs(connections: Connections) -> Iterator[tuple[str, int | None, str, str]]:
    """Every connection as ``(input, list index or None, producer, producer input)``."""
    for input_name, slot in connections.items():
        if isinstance(slot, str):
            yield (input_name, None, *parse_ref(slot))
        else:
            for index, ref in enumerate(slot):
                if ref is not None:
                    yield (input_name, index, *parse_ref(ref))


def producers(connections: Connections) -> set[str]:
    """Names of the resources these connections take values from."""
    return {producer for _, _, producer, _ in iter_refs(connections)}


class ResourceStateJSON(TypedDict):
    """One resource in ``state --json`` (inputs resolved; secrets masked by the views)."""

    type: str
    version: int
    inputs: dict[str, JSON]
    connections: dict[str, ConnectionSlot]
    tags: dict[str, str]


@dataclass(frozen=True, slots=True)
class ResourceState:
    """One resource as committed, desired, or as it was at some revision."""

    type: str
    version: int
    inputs: Mapping[str, JSON]
    connections: Connections = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def type_key(self) -> TypeKey:
        """The ``(type, version)`` whose definition describes this resource."""
        return (self.type, self.version)

    def to_json(self) -> ResourceStateJSON:
        return {
            "type": self.type,
            "version": self.version,
            "inputs": dict(self.inputs),
            "connections": dict(self.connections),
            "tags": dict(self.tags),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Raw]) -> ResourceState:
        return cls(
            type=data["type"],
            version=int(data["version"]),
            inputs=data["inputs"],
            connections=data.get("connections", {}),
            tags=data.get("tags", {}),
        )


class StateText(NamedTuple):
    """One resource's committed state as the store keeps it: its inputs, connections and tags
    are JSON texts (compact, possibly after a leading space), undecoded, so that a view can
    include them as they are."""

    name: str
    type: str
    version: int
    inputs: str
    connections: str
    tags: str


State = Mapping[str, ResourceState]
"""Resource name -> its state."""
