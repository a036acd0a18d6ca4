"""Dependency graphs: deterministic topological order and cycle detection.

Edges point from a node to the nodes it waits for. Ties are broken by name, so
the same graph always gives the same order, byte for byte. Linear in nodes plus
edges.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from retrograde.errors import CycleError


def topological_order(waits_for: Mapping[str, Iterable[str]]) -> list[str]:
    """Every node after the nodes it waits for; ties in name order.

    Nodes named only as dependencies are ignored (they are not part of this
    graph). Raises :class:`CycleError` naming every node on one cycle.
    """
    dependents: dict[str, list[str]] = {node: [] for node in waits_for}
    pending: dict[str, int] = {}
    for node, deps in waits_for.items():
        count = 0
        for dep in set(deps):
            if dep in dependents and dep != node:
                dependents[dep].append(node)
                count += 1
            elif dep == node:
                raise CycleError([node])
        pending[node] = count
    ready = [node for node, count in pending.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for dependent in dependents[node]:
            pending[dependent] -= 1
            if pending[dependent] == 0:
                heapq.heappush(ready, dependent)
    if len(order) != len(pending):
        raise CycleError(find_cycle(waits_for, {n for n, c in pending.items() if c > 0}))
    return order


def find_cycle(waits_for: Mapping[str, Iterable[str]], candidates: set[str]) -> list[str]:
    """One cycle among ``candidates`` (nodes left with unmet dependencies), in edge order.

    Starts from the smallest name so the reported cycle is deterministic.
    """
    graph = {n: sorted(d for d in set(waits_for[n]) if d in candidates) for n in candidates}
    node = min(candidates)
    seen: dict[str, int] = {}
    path: list[str] = []
    # Every candidate has a dependency among the candidates, so walking the
    # smallest dependency always reaches a node already on the path.
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = graph[node][0]
    cycle = path[seen[node] :]
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]
