"""Pure values: resource types, resource state, changes, plans, commits, applies.

Nothing here performs I/O, reads a clock or imports a driver.
"""

from retrograde.model.apply import ApplyRecord, ApplyStatus
from retrograde.model.change import ActionName, Change, Diff, make_change, reverse_diff
from retrograde.model.commit import Commit
from retrograde.model.plan import Plan, PlannedAction
from retrograde.model.state import ResourceState, State
from retrograde.model.types import ActionSpec, InputKind, InputSpec, ResourceType

__all__ = [
    "ActionName",
    "ActionSpec",
    "ApplyRecord",
    "ApplyStatus",
    "Change",
    "Commit",
    "Diff",
    "InputKind",
    "InputSpec",
    "Plan",
    "PlannedAction",
    "ResourceState",
    "ResourceType",
    "State",
    "make_change",
    "reverse_diff",
]
