"""Resumption migrations: reconcile an interrupted apply with a stack file. Pure.

See docs/design.md, "Resumption and migrations", and docs/durability.md.

Every stored task carries ``(resource, action, type, type version)``. When an
interrupted apply is resumed against a stack file, the unfinished tasks are
compared with the changes the stack file stages, and each inconsistency is
resolved in a fixed order:

1. **removed** — an unfinished task with no matching change (same resource,
   action and type) is dropped;
2. **added** — a change with no task joins the plan as a new task;
3. **changed** — a task whose type version differs from its change's needs a
   migration path between the two versions in the type's ``migrations``;
   without one, resuming is refused (:class:`MigrationPathError`) before
   anything is written.

A change for a resource whose task already finished in this apply (done,
failed or skipped) is not added: it stays staged for the next apply (reported
as ``staged`` when the task was done; failed and skipped changes stay staged
as after any failed apply). Every decision is reported as a
:class:`ResumptionStep`, in that order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from retrograde.errors import MigrationPathError
from retrograde.model.change import Change
from retrograde.model.journal import OPEN_TASKS, JournalTask, TaskStatus
from retrograde.planning.type_migrations import MigrationPlanner


class ResumptionStepJSON(TypedDict):
    """One step of ``resume --json``'s ``resumption``."""

    kind: str
    resource: str
    action: str
    type: str
    detail: str


@dataclass(frozen=True, slots=True)
class ResumptionStep:
    """One resolved inconsistency: ``kind`` is ``removed``, ``added``, ``changed`` or ``staged``."""

    kind: str
    resource: str
    action: str
    type: str
    detail: str

    def to_json(self) -> ResumptionStepJSON:
        return {
            "kind": self.kind,
            "resource": self.resource,
            "action": self.action,
            "type": self.type,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Resumption:
    """What resuming against the stack file does to the apply's tasks, and the report."""

    steps: tuple[ResumptionStep, ...]
    dropped: tuple[str, ...]
    added: tuple[str, ...]
    changed: tuple[str, ...]


def reconcile(
    apply_id: int,
    tasks: Sequence[JournalTask],
    changes: Mapping[str, Change],
    planner: MigrationPlanner,
) -> Resumption:
    """Compare the apply's ``tasks`` with the stack's ``changes``: removed, added, changed.

    ``changes`` are what the stack file stages against committed state (after
    version migrations). Raises :class:`MigrationPathError` for a changed
    version without a migration path.
    """
    open_tasks = {t.resource: t for t in tasks if t.status in OPEN_TASKS}
    finished = {t.resource for t in tasks if t.status not in OPEN_TASKS}
    removed = [t for t in open_tasks.values() if not _matches(t, changes.get(t.resource))]
    dropped = {t.resource for t in removed}
    kept = [t for t in open_tasks.values() if t.resource not in dropped]
    fresh = [n for n in sorted(changes) if n not in finished and n not in _names(kept)]
    retyped = [t for t in kept if changes[t.resource].type_state.version != t.version]
    steps = [_removed(t, changes.get(t.resource)) for t in removed]
    steps += [_added(changes[name]) for name in fresh]
    steps += [_changed(apply_id, t, changes[t.resource], planner) for t in retyped]
    done = {t.resource for t in tasks if t.status is TaskStatus.DONE}
    steps += [_left_staged(apply_id, changes[n]) for n in sorted(changes) if n in done]
    return Resumption(
        steps=tuple(steps),
        dropped=tuple(t.resource for t in removed),
        added=tuple(fresh),
        changed=tuple(t.resource for t in retyped),
    )


def _names(tasks: Sequence[JournalTask]) -> set[str]:
    return {t.resource for t in tasks}


def _matches(task: JournalTask, change: Change | None) -> bool:
    """Same resource (given), same action and same type name: the task carries on."""
    return change is not None and (change.action, change.type_state.type) == (
        task.action,
        task.type,
    )


def _removed(task: JournalTask, change: Change | None) -> ResumptionStep:
    if change is None:
        why = "the stack file stages no change for it any more"
    else:
        why = f"the stack file now stages {change.action.value} of type {change.type_state.type!r}"
    if task.status is TaskStatus.STARTED:
        why += "; it was in flight when the apply stopped, and whatever it did is not recorded"
    return ResumptionStep("removed", task.resource, task.action.value, task.type, why)


def _added(change: Change) -> ResumptionStep:
    side = change.type_state
    detail = f"joins the plan ({side.type} v{side.version})"
    return ResumptionStep("added", change.resource, change.action.value, side.type, detail)


def _changed(
    apply_id: int, task: JournalTask, change: Change, planner: MigrationPlanner
) -> ResumptionStep:
    version = change.type_state.version
    path = planner.path(task.type, task.version, version)
    if path is None:
        raise MigrationPathError(apply_id, task.resource, task.type, task.version, version)
    hops = ", ".join(hop.describe() for hop in path)
    detail = f"v{task.version} -> v{version} by migration {hops}"
    return ResumptionStep("changed", task.resource, task.action.value, task.type, detail)


def _left_staged(apply_id: int, change: Change) -> ResumptionStep:
    detail = f"its action already finished in apply {apply_id}; the change stays staged"
    side = change.type_state
    return ResumptionStep("staged", change.resource, change.action.value, side.type, detail)
