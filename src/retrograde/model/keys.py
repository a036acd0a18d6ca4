"""What a store records about its secret key and about upgrades of its hash chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict


@dataclass(frozen=True, slots=True)
class StoreKeys:
    """A store's id (which names its key file) and its data key wrapped under that key file
    (None until the first secret value is sealed)."""

    store_id: str
    wrapped_key: str | None = None


class ChainUpgradeJSON(TypedDict):
    """One chain upgrade in ``verify --json`` (docs/json.md)."""

    old_rev: int
    old_hash: str
    new_hash: str
    reason: str
    at: str


@dataclass(frozen=True, slots=True)
class ChainUpgrade:
    """One re-encoding of the log that changed its hashes without changing what it says.

    Before it, the head was revision ``old_rev`` with hash ``old_hash``; after
    it, that same revision hashes to ``new_hash``. Anyone holding the old
    head hash can follow the chain through it.
    """

    old_rev: int
    old_hash: str
    new_hash: str
    reason: str
    at: str

    def to_json(self) -> ChainUpgradeJSON:
        return {
            "old_rev": self.old_rev,
            "old_hash": self.old_hash,
            "new_hash": self.new_hash,
            "reason": self.reason,
            "at": self.at,
        }
