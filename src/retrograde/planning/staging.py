"""Staging: the staged log as the difference between committed and desired state.

Values have already flowed through connections (see :mod:`.propagation`), so a
change of ``node1.ip`` shows up here as updates of node1 and of every resource
that took its value, each with its own ``{input: {from, to}}`` diff.
"""

from __future__ import annotations

from retrograde.model.change import Change, make_change
from retrograde.model.state import State, producers


def stage_changes(committed: State, desired: State) -> dict[str, Change]:
    """One change per resource that differs, keyed and ordered by resource name.

    A resource only in ``desired`` is a ``run``, only in ``committed`` a
    ``remove``, in both but different (inputs, connections, tags, type or
    version) an ``update``; identical resources are absent.
    """
    changes: dict[str, Change] = {}
    for name in sorted(committed.keys() | desired.keys()):
        change = make_change(name, committed.get(name), desired.get(name))
        if change is not None:
            changes[name] = change
    return changes


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
