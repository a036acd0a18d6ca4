"""Plans: the ordered actions for a staged log, at most one per resource."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict

from retrograde.model.change import ActionName
from retrograde.model.drift import RefreshJSON


class PlannedActionJSON(TypedDict):
    """One action of ``plan --json``."""

    resource: str
    action: str
    after: list[str]
    queue: NotRequired[str | None]
    """In ``plan --json`` only: the Celery queue the action goes to (None: the default)."""


class HeadJSON(TypedDict):
    rev: int
    hash: str


class PlanFileJSON(TypedDict):
    """Where ``plan -o FILE`` saved the plan, and what it was made from."""

    path: str
    digest: str
    head: HeadJSON


class PlanJSON(TypedDict):
    """``plan --json``: the actions in a valid execution order (and the saved file, if any)."""

    actions: list[PlannedActionJSON]
    plan_file: NotRequired[PlanFileJSON]
    refresh: NotRequired[RefreshJSON]


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One action; ``after`` names the resources whose actions must finish first."""

    resource: str
    action: ActionName
    after: tuple[str, ...] = ()

    def to_json(self) -> PlannedActionJSON:
        return {"resource": self.resource, "action": self.action.value, "after": list(self.after)}


@dataclass(frozen=True, slots=True)
class Plan:
    """Actions listed in a valid execution order (deterministic for the same input)."""

    actions: tuple[PlannedAction, ...]

    def to_json(self) -> PlanJSON:
        return {"actions": [a.to_json() for a in self.actions]}

    def __len__(self) -> int:
        return len(self.actions)
