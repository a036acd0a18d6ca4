"""Commits: the immutable record of one finished action, chained by hash."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, NotRequired, TypedDict, TypeVar

from retrograde.model.change import ActionName, Consumers, Diff
from retrograde.model.jsonvalue import Raw, canonical_bytes
from retrograde.model.state import ConnectionSlot

V = TypeVar("V")


class SidesJSON(TypedDict, Generic[V]):
    """:class:`Sides` in JSON."""

    before: dict[str, V] | None
    after: dict[str, V] | None


class ConnectionsJSON(TypedDict):
    """A commit's ``connections`` in JSON: its resource's before and after, a removal's
    ``consumers``."""

    before: dict[str, ConnectionSlot] | None
    after: dict[str, ConnectionSlot] | None
    consumers: NotRequired[dict[str, dict[str, ConnectionSlot]]]


class _CommitBodyFields(TypedDict):
    """Every field of a commit but its hash and a move's ``from``."""

    rev: int
    apply_id: int | None
    resource: str
    action: str
    diff: Diff
    reverse: Diff
    connections: ConnectionsJSON
    tags: SidesJSON[str]
    type: str
    version: int
    principal: str
    timestamp: str
    message: str
    reverts: list[int]


_MovedFrom = TypedDict("_MovedFrom", {"from": NotRequired[str]})
"""A ``move`` commit's ``from``: the resource's name before it (``from`` is a Python keyword)."""


class CommitBody(_CommitBodyFields, _MovedFrom):
    """Every field of a commit but its hash: what the hash covers (``from`` only on a move)."""


class CommitJSON(CommitBody):
    """One COMMIT of ``log --json`` and ``show --json`` (secrets masked by the views)."""

    hash: str


GENESIS_HASH = "0" * 64
"""The "previous hash" of revision 1."""


@dataclass(frozen=True, slots=True)
class Sides(Generic[V]):
    """A resource's connections (or tags) before and after a commit; None where it did not exist.

    In JSON (and so in the hash) it is ``{"before": ..., "after": ...}``.
    """

    before: Mapping[str, V] | None = None
    after: Mapping[str, V] | None = None

    def to_json(self) -> SidesJSON[V]:
        return {
            "before": dict(self.before) if self.before is not None else None,
            "after": dict(self.after) if self.after is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Raw] | None) -> Sides[V]:
        data = data or {}
        return cls(data.get("before"), data.get("after"))

    def changed(self) -> list[str]:
        """The keys whose value differs between the two sides, sorted."""
        before, after = self.before or {}, self.after or {}
        return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@dataclass(frozen=True, slots=True)
class Commit:
    """One finished action. ``rev`` is gapless and global; ``hash`` chains to the previous commit.

    ``connections`` and ``tags`` are the resource's before and after, so that
    any commit, a removal included, can be reverted exactly; a removal also
    records ``consumers``, the connections other resources took from it
    (``{consumer: {input: slot}}``). In JSON, ``consumers`` sits inside
    ``connections``: ``{"before", "after", "consumers"}``.
    """

    rev: int
    apply_id: int | None
    resource: str
    action: ActionName
    diff: Diff
    reverse: Diff
    connections: Sides[ConnectionSlot]
    type: str
    version: int
    principal: str
    timestamp: str
    message: str
    reverts: tuple[int, ...] = ()
    tags: Sides[str] = field(default_factory=Sides)
    consumers: Consumers = field(default_factory=dict)
    hash: str = ""
    moved_from: str | None = None
    """A ``move`` commit's resource name before the move (``from`` in JSON)."""

    def changed_inputs(self) -> list[str]:
        """The inputs whose value this commit changed (what ``log --input`` finds): a move
        changes none; its diff only holds secret values sealed again under the new name."""
        return _changed(self.action.value, self.diff)

    def body(self) -> CommitBody:
        """Every field but ``hash``: what the hash covers (``from`` only on a move, so that
        every other commit hashes as it always did)."""
        body = self._fields()
        if self.moved_from is not None:
            body["from"] = self.moved_from
        return body

    def _fields(self) -> CommitBody:
        return {
            "rev": self.rev,
            "apply_id": self.apply_id,
            "resource": self.resource,
            "action": self.action.value,
            "diff": self.diff,
            "reverse": self.reverse,
            "connections": self.connections_json(),
            "tags": self.tags.to_json(),
            "type": self.type,
            "version": self.version,
            "principal": self.principal,
            "timestamp": self.timestamp,
            "message": self.message,
            "reverts": list(self.reverts),
        }

    def connections_json(self) -> ConnectionsJSON:
        """``connections`` as stored and hashed: before, after and (a removal's) consumers."""
        sides = self.connections
        out: ConnectionsJSON = {
            "before": dict(sides.before) if sides.before is not None else None,
            "after": dict(sides.after) if sides.after is not None else None,
        }
        if self.consumers:
            out["consumers"] = {name: dict(slots) for name, slots in self.consumers.items()}
        return out

    def to_json(self) -> CommitJSON:
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_json(cls, data: Mapping[str, Raw]) -> Commit:
        return cls(
            rev=int(data["rev"]),
            apply_id=data.get("apply_id"),
            resource=data["resource"],
            action=ActionName(data["action"]),
            diff=data["diff"],
            reverse=data["reverse"],
            connections=Sides.from_json(data.get("connections")),
            type=data["type"],
            version=int(data["version"]),
            principal=data["principal"],
            timestamp=data["timestamp"],
            message=data.get("message", ""),
            reverts=tuple(data.get("reverts", ())),
            tags=Sides.from_json(data.get("tags")),
            consumers=(data.get("connections") or {}).get("consumers") or {},
            hash=data.get("hash", ""),
            moved_from=data.get("from"),
        )


def changed_inputs(body: CommitBody) -> list[str]:
    """:meth:`Commit.changed_inputs` of the commit with this body."""
    return _changed(body["action"], body["diff"])


def _changed(action: str, diff: Diff) -> list[str]:
    return [] if action == ActionName.MOVE.value else list(diff)


def commit_hash(
    body: CommitBody | Mapping[str, Raw], previous_hash: str, *, finite: bool = False
) -> str:
    """SHA-256 over the previous hash and the canonical JSON of the commit body.

    ``finite``: the body was decoded from JSON, so it holds no NaN or infinity
    (see :func:`~retrograde.model.jsonvalue.canonical_bytes`; same hash, faster).
    """
    return hashlib.sha256(
        previous_hash.encode("ascii") + canonical_bytes(body, finite=finite)
    ).hexdigest()
