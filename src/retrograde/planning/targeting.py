"""Part of the staged work: ``--target``, ``--tag`` and ``--exclude`` with what they need. Pure.

A target brings in what it needs: the actions of the resources it is
connected from (new graph) and, for a removal, of its former consumers, so a
partial apply can never leave a consumer pointing at something that is gone.
Those are exactly the edges of the plan (each action's ``after``), so the
closure is one breadth-first walk over them: linear in actions plus edges.
What is not selected stays staged, untouched, with one exception when
*staging* part of a file: a staged consumer whose values came through a
connection from a restaged resource is restaged with it, so that nothing
staged keeps a value its producer no longer has (:func:`restaged`).

Names and tags mean what :mod:`.selection` says (different tag keys AND, a
repeated key ORs). An excluded resource is left out unless a selected one
needs it: then :class:`ExcludedNeededError` names both, since re-adding it
in silence would run what the operator asked not to run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from retrograde.errors import ExcludedNeededError, NotFoundError
from retrograde.model.change import Change
from retrograde.model.plan import Plan
from retrograde.model.state import ResourceState, producers
from retrograde.planning.selection import Selection, TagPairs


@dataclass(frozen=True, slots=True)
class Targeting:
    """Which staged work a verb acts on; the empty targeting is all of it."""

    targets: frozenset[str] = frozenset()
    tags: Mapping[str, frozenset[str]] = field(default_factory=dict)
    exclude: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, targets: Iterable[str] = (), tags: TagPairs = (), exclude: Iterable[str] = ()
    ) -> Targeting:
        """The targeting of ``targets``, ``tags`` (keys may repeat) and ``exclude``."""
        selection = Selection.of(targets, tags)
        return cls(selection.resources, selection.tags, frozenset(exclude))

    @property
    def everything(self) -> bool:
        """Whether it narrows nothing: no target, no tag, no exclusion."""
        return not self.targets and not self.tags and not self.exclude

    @property
    def selection(self) -> Selection:
        """The names and tags as a :class:`Selection` (exclusions are not part of it)."""
        return Selection(self.targets, self.tags)

    def to_json(self) -> dict[str, Any]:
        """``{"targets": [...], "tags": {KEY: [VALUE...]}, "exclude": [...]}``, all sorted."""
        return {
            "targets": sorted(self.targets),
            "tags": {key: sorted(self.tags[key]) for key in sorted(self.tags)},
            "exclude": sorted(self.exclude),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Targeting:
        pairs = [(key, value) for key, values in data["tags"].items() for value in values]
        return cls.of(data["targets"], pairs, data["exclude"])


def roots(
    targeting: Targeting,
    *states: Mapping[str, ResourceState],
    kind: str = "staged change for resource",
) -> set[str]:
    """The resources named or tagged among ``states``, less the excluded ones.

    Every named target and exclusion must be in one of ``states``
    (:class:`NotFoundError` of ``kind``), so a typo never narrows the work to
    nothing in silence.
    """
    for name in sorted(targeting.targets | targeting.exclude):
        if not any(name in state for state in states):
            raise NotFoundError(kind, name)
    if targeting.tags:
        chosen = targeting.selection.pick(*states)
    elif targeting.targets:
        chosen = set(targeting.targets)  # no tag to match: no need to look at every resource
    else:
        chosen = set().union(*states)
    return chosen - targeting.exclude


def change_states(changes: Mapping[str, Change]) -> tuple[dict[str, ResourceState], ...]:
    """Both sides of ``changes`` as states, so a tag matches before or after a change."""
    after = {name: c.after for name, c in changes.items() if c.after is not None}
    before = {name: c.before for name, c in changes.items() if c.before is not None}
    return after, before


def closure(plan: Plan, chosen: Collection[str], exclude: Collection[str] = ()) -> set[str]:
    """``chosen`` and every planned resource their actions wait for, transitively.

    One breadth-first walk over the plan's ``after`` edges (linear). Reaching
    an ``exclude``d resource raises :class:`ExcludedNeededError` naming it and
    the chosen resource whose walk reached it (chosen ones are walked in name
    order, so the answer is deterministic). Names not in the plan are ignored.
    """
    waits = {action.resource: action.after for action in plan.actions}
    reached: set[str] = set()
    for root in sorted(name for name in chosen if name in waits):
        if root in reached:
            continue
        reached.add(root)
        queue = deque([root])
        while queue:
            for dep in waits[queue.popleft()]:
                if dep in exclude:
                    raise ExcludedNeededError(dep, needed_by=root)
                if dep not in reached:
                    reached.add(dep)
                    queue.append(dep)
    return reached


def select(plan: Plan, changes: Mapping[str, Change], targeting: Targeting) -> set[str]:
    """The staged resources ``targeting`` picks in ``plan``, with everything they need."""
    if targeting.everything:
        return set(changes)
    return closure(plan, roots(targeting, *change_states(changes)), targeting.exclude)


def restaged(
    plan: Plan,
    fresh: Mapping[str, Change],
    staged: Mapping[str, Change],
    desired: Mapping[str, ResourceState],
    targeting: Targeting,
) -> set[str]:
    """The resources whose staged changes a targeted ``stage`` replaces.

    ``fresh`` is what the stack file would stage (``plan`` its plan),
    ``staged`` what is staged now and ``desired`` the file's resources. A
    target may be in any of them; its closure is taken in ``plan``, the new
    work. A target with no fresh change keeps none (its staged one goes).
    """
    states = (*change_states(fresh), *change_states(staged), desired)
    chosen = roots(targeting, *states, kind="resource")
    names = chosen | closure(plan, chosen, targeting.exclude)
    consumers = staged_consumers(staged)
    while extra := stale_consumers(consumers, staged, fresh, names, targeting.exclude):
        names |= extra | closure(plan, extra, targeting.exclude)
    return names


def staged_consumers(staged: Mapping[str, Change]) -> dict[str, set[str]]:
    """For each producer, the staged changes whose ``after`` takes a value from it."""
    consumers: dict[str, set[str]] = {}
    for name, change in staged.items():
        if change.after is not None:
            for producer in producers(change.after.connections):
                consumers.setdefault(producer, set()).add(name)
    return consumers


def stale_consumers(
    consumers: Mapping[str, Collection[str]],
    staged: Mapping[str, Change],
    fresh: Mapping[str, Change],
    names: Collection[str],
    exclude: Collection[str] = (),
) -> set[str]:
    """Staged consumers of ``names``, transitively, whose staged change the file now changes.

    Their staged values followed the old staged or committed values of
    ``names``; keeping them would leave a consumer holding a value its
    producer no longer has. An excluded one is :class:`ExcludedNeededError`.
    """
    reached = set(names)
    queue = deque(sorted(names))
    stale: set[str] = set()
    while queue:
        producer = queue.popleft()
        for consumer in sorted(consumers.get(producer, ())):
            if consumer in reached or fresh.get(consumer) == staged[consumer]:
                continue
            if consumer in exclude:
                raise ExcludedNeededError(consumer, needed_by=producer)
            reached.add(consumer)
            stale.add(consumer)
            queue.append(consumer)
    return stale


def narrowed(plan: Plan, names: Collection[str]) -> Plan:
    """The actions of ``names`` in ``plan``'s order (a closed set keeps every ``after``)."""
    return Plan(tuple(action for action in plan.actions if action.resource in names), plan.moves)


def merged(
    staged: Mapping[str, Change], fresh: Mapping[str, Change], names: Collection[str]
) -> dict[str, Change]:
    """The staged log after staging ``fresh`` for ``names`` only, keyed by name in order.

    The changes of ``names`` become their ``fresh`` ones (or go, where
    ``fresh`` has none); every other staged change stays as it was.
    """
    kept = {name: change for name, change in staged.items() if name not in names}
    kept.update((name, fresh[name]) for name in names if name in fresh)
    return {name: kept[name] for name in sorted(kept)}
