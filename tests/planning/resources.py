"""Resource states built from literals, for the pure planning tests."""

from __future__ import annotations

from typing import Any

from retrograde.model.state import ConnectionSlot, ResourceState


def res(
    inputs: dict[str, Any] | None = None,
    connections: dict[str, ConnectionSlot] | None = None,
    type: str = "service",
) -> ResourceState:
    """A version-1 resource of ``type`` with these inputs and connections, untagged."""
    return ResourceState(type=type, version=1, inputs=inputs or {}, connections=connections or {})
