"""Plans: the ordered actions for a staged log, at most one per resource."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retrograde.model.change import ActionName


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One action; ``after`` names the resources whose actions must finish first."""

    resource: str
    action: ActionName
    after: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "action": self.action.value, "after": list(self.after)}


@dataclass(frozen=True, slots=True)
class Plan:
    """Actions listed in a valid execution order (deterministic for the same input)."""

    actions: tuple[PlannedAction, ...]

    def to_json(self) -> dict[str, Any]:
        return {"actions": [a.to_json() for a in self.actions]}

    def __len__(self) -> int:
        return len(self.actions)
