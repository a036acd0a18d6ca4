"""Dependency bookkeeping for one apply: what may start, what must be skipped."""

from __future__ import annotations

from collections import deque

from retrograde.model.plan import Plan


class Schedule:
    """Tracks, for each planned action, how many of its dependencies are still unfinished.

    Linear in actions plus dependency edges over the whole apply. Readiness is
    reported in plan order, so runs are as deterministic as parallelism allows.
    """

    def __init__(self, plan: Plan) -> None:
        self._position = {a.resource: i for i, a in enumerate(plan.actions)}
        self._waiting = {a.resource: len(a.after) for a in plan.actions}
        self._dependents: dict[str, list[str]] = {a.resource: [] for a in plan.actions}
        for action in plan.actions:
            for dependency in action.after:
                self._dependents[dependency].append(action.resource)
        self._skipped: set[str] = set()

    def initial(self) -> list[str]:
        """Actions with no dependencies, in plan order."""
        return [name for name, count in self._waiting.items() if count == 0]

    def succeeded(self, names: list[str]) -> list[str]:
        """Record finished actions; return the actions that became ready, in plan order."""
        ready: list[str] = []
        for name in names:
            for dependent in self._dependents[name]:
                self._waiting[dependent] -= 1
                if self._waiting[dependent] == 0 and dependent not in self._skipped:
                    ready.append(dependent)
        return sorted(ready, key=self._position.__getitem__)

    def failed(self, name: str) -> list[str]:
        """Record a failed action; return every action that (transitively) waits for it."""
        newly: list[str] = []
        queue = deque(self._dependents[name])
        while queue:
            dependent = queue.popleft()
            if dependent in self._skipped:
                continue
            self._skipped.add(dependent)
            newly.append(dependent)
            queue.extend(self._dependents[dependent])
        return sorted(newly, key=self._position.__getitem__)
