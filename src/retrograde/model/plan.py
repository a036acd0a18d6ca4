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
    moves: NotRequired[list[dict[str, str]]]
    """Present when renames are staged: ``{"resource": NEW, "action": "move", "from": OLD}``
    each, in the order ``apply`` commits them, before every action."""
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
class PlannedMove:
    """A staged rename: ``moved_from`` becomes ``resource``, committed before every action."""

    resource: str
    moved_from: str

    def to_json(self) -> dict[str, str]:
        return {"resource": self.resource, "action": ActionName.MOVE.value, "from": self.moved_from}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> PlannedMove:
        return cls(str(data["resource"]), str(data["from"]))


@dataclass(frozen=True, slots=True)
class Plan:
    """Actions listed in a valid execution order (deterministic for the same input), after
    the staged renames (``moves``, which run no handler) in the order they are committed."""

    actions: tuple[PlannedAction, ...]
    moves: tuple[PlannedMove, ...] = ()

    def to_json(self) -> PlanJSON:
        out: PlanJSON = {"actions": [a.to_json() for a in self.actions]}
        if self.moves:
            out["moves"] = [move.to_json() for move in self.moves]
        return out

    def __len__(self) -> int:
        return len(self.actions)
