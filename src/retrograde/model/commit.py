"""Commits: the immutable record of one finished action, chained by hash."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from retrograde.model.change import ActionName, Diff
from retrograde.model.jsonvalue import JSON, canonical_bytes

GENESIS_HASH = "0" * 64
"""The "previous hash" of revision 1."""


@dataclass(frozen=True, slots=True)
class Commit:
    """One finished action. ``rev`` is gapless and global; ``hash`` chains to the previous commit.

    ``connections`` and ``tags`` hold ``{"before": ..., "after": ...}`` of the
    resource so that any commit, a removal included, can be reverted exactly; a
    removal's ``connections`` also hold ``"consumers"``, the connections other
    resources took from it (``{consumer: {input: slot}}``).
    """

    rev: int
    apply_id: int | None
    resource: str
    action: ActionName
    diff: Diff
    reverse: Diff
    connections: Mapping[str, JSON]
    type: str
    version: int
    principal: str
    timestamp: str
    message: str
    reverts: tuple[int, ...] = ()
    tags: Mapping[str, JSON] = field(default_factory=dict)
    hash: str = ""

    def body(self) -> dict[str, Any]:
        """Every field but ``hash``: what the hash covers."""
        return {
            "rev": self.rev,
            "apply_id": self.apply_id,
            "resource": self.resource,
            "action": self.action.value,
            "diff": self.diff,
            "reverse": self.reverse,
            "connections": self.connections,
            "tags": self.tags,
            "type": self.type,
            "version": self.version,
            "principal": self.principal,
            "timestamp": self.timestamp,
            "message": self.message,
            "reverts": list(self.reverts),
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Commit:
        return cls(
            rev=int(data["rev"]),
            apply_id=data.get("apply_id"),
            resource=data["resource"],
            action=ActionName(data["action"]),
            diff=data["diff"],
            reverse=data["reverse"],
            connections=data.get("connections", {}),
            type=data["type"],
            version=int(data["version"]),
            principal=data["principal"],
            timestamp=data["timestamp"],
            message=data.get("message", ""),
            reverts=tuple(data.get("reverts", ())),
            tags=data.get("tags", {}),
            hash=data.get("hash", ""),
        )


def commit_hash(body: Mapping[str, Any], previous_hash: str) -> str:
    """SHA-256 over the previous hash and the canonical JSON of the commit body."""
    digest = hashlib.sha256(previous_hash.encode("ascii"))
    digest.update(canonical_bytes(body))
    return digest.hexdigest()
