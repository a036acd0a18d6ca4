"""Chain entries: what decides what runs, hash-chained with the commits in one chain.

Commits are not the only records that matter: the type definitions (the
handler commands that run), checkpoints (where a rollback goes) and apply
records (who acted, why, and how it ended) decide what an apply does and
what the history says. Each becomes a chain entry when it is first used or
changes. Entries have their own gapless sequence (1, 2, 3...) so commit
revisions stay gapless; an entry sits in the chain after commit ``after_rev``
(0: before the first commit), entries with the same ``after_rev`` in sequence
order. Each element of the chain, commit or entry, is hashed onto the one
before it (:func:`~retrograde.model.commit.commit_hash`), so a store without
entries chains exactly as before.

An entry's body is ``{"seq", "after_rev", "entry", "key", "data"}``: ``entry``
its kind, ``key`` what it is about (a type ``name vN``, a checkpoint name, an
apply id), ``data`` the record as stored. The latest entry of a kind and key
is what the store's record must equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict

from retrograde.model.commit import commit_hash
from retrograde.model.jsonvalue import JSONObject, Raw


class EntryKind(StrEnum):
    """What a chain entry records."""

    TYPE = "type"
    """A type definition (``data``: the definition), when first used and when it changes."""
    CHECKPOINT = "checkpoint"
    """A checkpoint as created (``data``: its ``checkpoints --json`` fields)."""
    APPLY_BEGIN = "apply-begin"
    """Who started an apply, how they were known, why and when (see :data:`BEGIN_FIELDS`)."""
    APPLY_END = "apply-end"
    """How an apply ended (see :data:`END_FIELDS`)."""
    UPGRADE = "upgrade"
    """A one-time change of how the history is kept (``data``: ``reason``, ``rev`` and
    ``hash`` of the chain head before it). Records after it were chained by the change,
    not as they happened; reused by any later re-encoding of the history."""


END_FIELDS = ("id", "status", "ended_at", "succeeded", "failed", "skipped", "failures")
"""The apply record's fields an ``apply-end`` entry holds: its outcome."""

BEGIN_FIELDS = ("id", "principal", "principal_source", "message", "started_at", "host", "pid")
"""The apply record's fields an ``apply-begin`` entry holds at least: every field but the
outcome is in it, so a field a later schema adds (an apply's kind) is chained too."""

PRINCIPAL_SOURCES = ("declared", "os", "token", "unknown")
"""Where an apply's principal came from: ``--principal``/``RETROGRADE_PRINCIPAL``, the OS
user, a server token; ``unknown`` for applies recorded before sources were kept."""


class EntryBody(TypedDict):
    """Every field of a chain entry but its hash: what the hash covers."""

    seq: int
    after_rev: int
    entry: str
    key: str
    data: JSONObject


class EntryJSON(EntryBody):
    """A chain entry with its hash (an export's ``entry`` line, without ``kind``)."""

    hash: str


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """One chain entry (see the module docstring)."""

    seq: int
    after_rev: int
    kind: str
    key: str
    data: JSONObject
    hash: str = ""

    def body(self) -> EntryBody:
        return {
            "seq": self.seq,
            "after_rev": self.after_rev,
            "entry": self.kind,
            "key": self.key,
            "data": self.data,
        }

    def to_json(self) -> EntryJSON:
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_json(cls, data: Mapping[str, Raw]) -> ChainEntry:
        return cls(
            seq=data["seq"],
            after_rev=data["after_rev"],
            kind=data["entry"],
            key=data["key"],
            data=data["data"],
            hash=data.get("hash", ""),
        )

    def describe(self) -> str:
        """How problems name the entry: ``chain entry 7 (type web v1)``."""
        return f"chain entry {self.seq} ({self.kind} {self.key})"


@dataclass(frozen=True, slots=True)
class ChainPoint:
    """A place in the chain: after commit ``rev`` and entry ``seq``, where the hash is ``hash``."""

    rev: int
    seq: int
    hash: str

    def to_json(self) -> dict[str, int | str]:
        return {"rev": self.rev, "seq": self.seq, "hash": self.hash}


def build_entry(
    seq: int, after_rev: int, kind: str, key: str, data: JSONObject, previous_hash: str
) -> ChainEntry:
    """The entry numbered ``seq`` after commit ``after_rev``, hashed onto ``previous_hash``."""
    entry = ChainEntry(seq, after_rev, kind, key, data)
    return ChainEntry(seq, after_rev, kind, key, data, commit_hash(entry.body(), previous_hash))


def type_key(name: str, version: int) -> str:
    """The key of a type definition's entries."""
    return f"{name} v{version}"


def begin_data(record: Mapping[str, Raw]) -> JSONObject:
    """The ``apply-begin`` data of an apply record (a row, or an exported record): every
    field but the outcome; no known principal source is ``unknown``."""
    data = {key: record.get(key) for key in BEGIN_FIELDS}
    data.update((key, value) for key, value in record.items() if key not in _OUTCOME)
    data["principal_source"] = data["principal_source"] or "unknown"
    return data


_OUTCOME = frozenset(END_FIELDS) - {"id"}


def end_data(record: Mapping[str, Raw]) -> JSONObject:
    """The ``apply-end`` data of an apply record."""
    return {key: record.get(key) for key in END_FIELDS}
