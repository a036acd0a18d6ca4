"""Staging: the staged log as the difference between committed and desired state.

Values have already flowed through connections (see :mod:`.propagation`), so a
change of ``node1.ip`` shows up here as updates of node1 and of every resource
that took its value, each with its own ``{input: {from, to}}`` diff.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from retrograde.model.change import ActionName, Change, Consumers, make_change
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
    index: dict[str, set[str]] | None = None
    for name in sorted(committed.keys() | desired.keys()):
        change = make_change(name, committed.get(name), desired.get(name))
        if change is None:
            continue
        if change.action is ActionName.REMOVE:
            index = consumers(committed) if index is None else index
            taken = taken_from(name, committed, index.get(name, ()))
            change = dataclasses.replace(change, consumers=taken) if taken else change
        changes[name] = change
    return changes


def taken_from(producer: str, state: State, names: Iterable[str]) -> Consumers:
    """``{consumer: {input: slot}}`` for the inputs of ``names`` connected from ``producer``."""
    taken: dict[str, dict[str, ConnectionSlot]] = {}
    for name in sorted(names):
        connections = state[name].connections
        for input_name, _, source, _ in iter_refs(connections):
            if source == producer:
                taken.setdefault(name, {})[input_name] = connections[input_name]
    return taken


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
