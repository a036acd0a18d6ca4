"""Changes: one resource's staged edit, with its action inferred and its reverse built in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NotRequired, TypedDict

from retrograde.model.jsonvalue import JSON, Raw, same_json
from retrograde.model.state import Connections, ConnectionSlot, ResourceState, ResourceStateJSON

Diff = Mapping[str, Mapping[str, JSON]]
"""Per-input diff ``{input: {"from": X, "to": Y}}``; a missing side is ``None``."""

Consumers = Mapping[str, Connections]
"""Connections other resources take from one resource: ``{consumer: {input: slot}}``,
each slot the consumer's whole slot for that input (a list slot keeps its positions)."""


class ActionName(StrEnum):
    """What a commit did; for ``run``, ``update`` and ``remove`` what a handler is asked to do
    (inferred from a change, never typed by the user).

    ``migrate``, ``observe`` (drift recorded by ``refresh``), ``move`` (a rename) and
    ``adopt`` (a resource that already existed, recorded as committed) are written
    without running a handler.
    """

    RUN = "run"
    UPDATE = "update"
    REMOVE = "remove"
    MIGRATE = "migrate"
    OBSERVE = "observe"
    MOVE = "move"
    ADOPT = "adopt"


CREATING = frozenset({ActionName.RUN, ActionName.ADOPT})
"""The actions whose commit brings a resource into committed state (it did not exist before)."""

NO_HANDLER_ACTIONS = frozenset(
    {ActionName.MIGRATE, ActionName.OBSERVE, ActionName.MOVE, ActionName.ADOPT}
)
"""The actions whose commits no handler made (they have no output)."""


def input_diff(before: Mapping[str, JSON] | None, after: Mapping[str, JSON] | None) -> Diff:
    """The inputs whose values differ, in sorted order, as ``{input: {from, to}}``.

    When both sides exist but an input exists on only one of them (its type
    gained or dropped it), the entry also says ``"absent": "from"`` or
    ``"absent": "to"``, so that replaying or reverting it is exact even for
    inputs whose value is ``null``.
    """
    old = before or {}
    new = after or {}
    both = before is not None and after is not None
    diff: dict[str, dict[str, JSON]] = {}
    for name in sorted(old.keys() | new.keys()):
        if name in old and name in new:
            if not same_json(old[name], new[name]):
                diff[name] = {"from": old[name], "to": new[name]}
            continue
        entry = {"from": old.get(name), "to": new.get(name)}
        if both:
            entry["absent"] = "to" if name in old else "from"
        diff[name] = entry
    return diff


def reverse_diff(diff: Diff) -> Diff:
    """The diff that undoes ``diff``."""
    return {
        name: _reverse_entry(d) if "absent" in d else {"from": d["to"], "to": d["from"]}
        for name, d in diff.items()
    }


def _reverse_entry(entry: Mapping[str, JSON]) -> dict[str, JSON]:
    reverse = {"from": entry["to"], "to": entry["from"]}
    if "absent" in entry:
        reverse["absent"] = "from" if entry["absent"] == "to" else "to"
    return reverse


def infer_action(before: ResourceState | None, after: ResourceState | None) -> ActionName:
    """None -> X is run, A -> B is update, X -> None is remove."""
    if before is None:
        return ActionName.RUN
    if after is None:
        return ActionName.REMOVE
    return ActionName.UPDATE


class ChangeJSON(TypedDict):
    """A staged change as stored: the resource before and after, its diff, what it reverts."""

    resource: str
    action: str
    before: ResourceStateJSON | None
    after: ResourceStateJSON | None
    diff: dict[str, dict[str, JSON]]
    reverts: list[int]
    consumers: NotRequired[dict[str, dict[str, ConnectionSlot]]]
    moved_from: NotRequired[str]


@dataclass(frozen=True, slots=True)
class Change:
    """One resource's staged edit: where it is (``before``) and where it goes (``after``).

    ``before`` is None for a new resource, ``after`` is None for a removed one.
    ``reverts`` names the revisions this change undoes (empty for ordinary edits).
    ``consumers`` is set on removals: the connections other resources took from
    the resource in committed state when it was staged (they are gone by the
    time the removal commits), so that reverting the removal can restore them.
    """

    resource: str
    action: ActionName
    before: ResourceState | None
    after: ResourceState | None
    diff: Diff
    reverts: tuple[int, ...] = ()
    consumers: Consumers = field(default_factory=dict)
    moved_from: str | None = None
    """A ``move``: the resource's name before it (``resource`` is the name after)."""

    @property
    def type_state(self) -> ResourceState:
        """The side that names the type: ``after``, or ``before`` for a removal."""
        side = self.after if self.after is not None else self.before
        assert side is not None
        return side

    def to_json(self) -> ChangeJSON:
        out: ChangeJSON = {
            "resource": self.resource,
            "action": self.action.value,
            "before": self.before.to_json() if self.before else None,
            "after": self.after.to_json() if self.after else None,
            "diff": {k: dict(v) for k, v in self.diff.items()},
            "reverts": list(self.reverts),
        }
        if self.consumers:
            out["consumers"] = {k: dict(v) for k, v in self.consumers.items()}
        if self.moved_from is not None:
            out["moved_from"] = self.moved_from
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Raw]) -> Change:
        before, after = data.get("before"), data.get("after")
        return cls(
            resource=data["resource"],
            action=ActionName(data["action"]),
            before=ResourceState.from_json(before) if before else None,
            after=ResourceState.from_json(after) if after else None,
            diff=data["diff"],
            reverts=tuple(data.get("reverts", ())),
            consumers=data.get("consumers") or {},
            moved_from=data.get("moved_from"),
        )


def make_change(
    resource: str,
    before: ResourceState | None,
    after: ResourceState | None,
    *,
    reverts: tuple[int, ...] = (),
) -> Change | None:
    """The change from ``before`` to ``after``, or None when nothing differs.

    Inputs, connections, tags, type and version all count: a resource whose
    only difference is a tag still gets an ``update``.
    """
    if before is None and after is None:
        return None
    diff = input_diff(before.inputs if before else None, after.inputs if after else None)
    if before is not None and after is not None and not diff and _same_frame(before, after):
        return None
    return Change(
        resource=resource,
        action=infer_action(before, after),
        before=before,
        after=after,
        diff=diff,
        reverts=reverts,
    )


def _same_frame(a: ResourceState, b: ResourceState) -> bool:
    """Equal in everything but inputs: type, version, connections, tags."""
    return (a.type, a.version, a.connections, a.tags) == (b.type, b.version, b.connections, b.tags)
