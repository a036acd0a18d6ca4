"""Staging: the staged log as the difference between committed and desired state.

Values have already flowed through connections (see :mod:`.propagation`), so a
change of ``node1.ip`` shows up here as updates of node1 and of every resource
that took its value, each with its own ``{input: {from, to}}`` diff.
"""

from __future__ import annotations

import dataclasses

from retrograde.model.change import ActionName, Change, make_change
from retrograde.model.state import ConnectionSlot, State, iter_refs, producers


def stage_changes(committed: State, desired: State) -> dict[str, Change]:
    """One change per resource that differs, keyed and ordered by resource name.

    A resource only in ``desired`` is a ``run``, only in ``committed`` a
    ``remove``, in both but different (inputs, connections, tags, type or
    version) an ``update``; identical resources are absent. A removal carries
    the connections other resources took from it in ``committed``
    (``Change.consumers``), which its commit keeps for reverting it.
    """
    changes: dict[str, Change] = {}
    index: dict[str, dict[str, dict[str, ConnectionSlot]]] | None = None
    for name in sorted(committed.keys() | desired.keys()):
        change = make_change(name, committed.get(name), desired.get(name))
        if change is None:
            continue
        if change.action is ActionName.REMOVE:
            index = taken_index(committed) if index is None else index
            taken = index.get(name)
            if taken:
                ordered = {consumer: taken[consumer] for consumer in sorted(taken)}
                change = dataclasses.replace(change, consumers=ordered)
        changes[name] = change
    return changes


def taken_index(state: State) -> dict[str, dict[str, dict[str, ConnectionSlot]]]:
    """Producer -> ``{consumer: {input: slot}}`` for every connection in ``state``.

    Built in one pass over all connections (never once per removed resource),
    so staging stays linear however many consumers a producer has.
    """
    index: dict[str, dict[str, dict[str, ConnectionSlot]]] = {}
    for name, resource in state.items():
        connections = resource.connections
        for input_name, _, source, _ in iter_refs(connections):
            index.setdefault(source, {}).setdefault(name, {})[input_name] = connections[input_name]
    return index


def consumers(state: State) -> dict[str, set[str]]:
    """Producer name -> names of the resources connected from it (the reverse index).

    Only producers that some connection names are keys, whether or not they are
    in ``state``. Linear in resources plus connections.
    """
    index: dict[str, set[str]] = {}
    for name, resource in state.items():
        for producer in producers(resource.connections):
            index.setdefault(producer, set()).add(name)
    return index
