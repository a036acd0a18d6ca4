"""What the history verbs return: log pages, blame, verification reports, transfer summaries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NotRequired, TypedDict

from retrograde.model.apply import ApplyRecord
from retrograde.model.commit import Commit
from retrograde.model.jsonvalue import JSON, JSONObject, Raw
from retrograde.model.keys import ChainUpgrade, ChainUpgradeJSON
from retrograde.model.state import ResourceState


@dataclass(frozen=True, slots=True)
class LogPage:
    """One page of ``log``, newest first; ``next`` is the cursor of the following page.

    ``next`` is the revision to pass as ``before_rev`` (``--before``) for the
    next page, or None when this page is the last.
    """

    commits: tuple[Commit, ...]
    next: int | None


@dataclass(frozen=True, slots=True)
class AppliesPage:
    """One page of ``applies``, newest first; ``next`` is the id to pass as ``before``."""

    applies: tuple[ApplyRecord, ...]
    next: int | None


@dataclass(frozen=True, slots=True)
class Blame:
    """For each input of a resource, the commit that last set it (None if no commit did)."""

    resource: str
    state: ResourceState
    commits: Mapping[str, Commit | None]


class ProblemKind(StrEnum):
    """What ``verify`` can find wrong, in the order it looks."""

    UNREADABLE = "unreadable"
    """A stored commit cannot be decoded."""
    GAP = "gap"
    """A revision is missing: revisions must run 1, 2, 3, ... without holes."""
    HASH = "hash"
    """A commit's hash does not follow from its content and the previous hash."""
    ORDER = "order"
    """A commit's timestamp is earlier than the one before it."""
    REPLAY = "replay"
    """A commit does not fit the state the commits before it left."""
    SNAPSHOT = "snapshot"
    """A stored snapshot differs from the state the log gives at its revision."""
    STATE = "state"
    """Committed state differs from the state the log gives."""
    INDEX = "index"
    """The input index does not match the commits."""
    ENTRY = "entry"
    """A chain entry breaks the chain: a gap in its sequence, its place, its hash."""
    RECORD = "record"
    """A stored type definition, checkpoint or apply record differs from its chain entry."""
    SIGNATURE = "signature"
    """A signature is invalid, does not match the chain, or a trusted one is missing."""
    WITNESS = "witness"
    """A head kept elsewhere (``--expect-head``, ``--witness``) is not in the chain."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing ``verify`` found wrong, at a revision or a resource (or both)."""

    kind: ProblemKind
    detail: str
    rev: int | None = None
    resource: str | None = None

    def __str__(self) -> str:
        where = [f"rev {self.rev}"] if self.rev is not None else []
        if self.resource is not None:
            where.append(f"resource {self.resource!r}")
        return f"{', '.join(where) or 'store'}: {self.detail}"

    def to_json(self) -> ProblemJSON:
        return {
            "kind": self.kind.value,
            "rev": self.rev,
            "resource": self.resource,
            "detail": self.detail,
        }


class ProblemJSON(TypedDict):
    """One problem in ``verify --json``."""

    kind: str
    rev: int | None
    resource: str | None
    detail: str


class HeadJSON(TypedDict):
    rev: int
    hash: str


class VerifyJSON(TypedDict):
    """``verify --json``."""

    ok: bool
    commits: int
    head: HeadJSON
    resources: int
    problems: list[ProblemJSON]
    chain_upgrades: list[ChainUpgradeJSON]
    clear_secrets: list[JSONObject]
    chain: NotRequired[ChainJSON]
    signing: NotRequired[SigningJSON]


class ChainJSON(TypedDict):
    """``verify --json``'s ``chain``: the chain's last element and how many entries it has."""

    rev: int
    seq: int
    hash: str
    entries: int


class SigningJSON(TypedDict):
    """``verify --json``'s ``signing``: whether the store is signed, by which keys, and
    whether ``--trust`` was asked and held."""

    signed: bool
    signatures: int
    keys: list[str]
    last_signed: dict[str, int] | None
    trusted: bool | None


@dataclass(frozen=True, slots=True)
class ChainSummary:
    """What ``verify`` adds about chain entries and signatures (see :class:`SigningJSON`)."""

    rev: int
    seq: int
    hash: str
    entries: int
    signatures: int = 0
    keys: tuple[str, ...] = ()
    last_signed: tuple[int, int] | None = None
    trusted: bool | None = None

    def to_json(self) -> tuple[ChainJSON, SigningJSON]:
        last = self.last_signed
        chain: ChainJSON = {
            "rev": self.rev,
            "seq": self.seq,
            "hash": self.hash,
            "entries": self.entries,
        }
        signing: SigningJSON = {
            "signed": self.signatures > 0,
            "signatures": self.signatures,
            "keys": list(self.keys),
            "last_signed": None if last is None else {"rev": last[0], "seq": last[1]},
            "trusted": self.trusted,
        }
        return chain, signing


SHOWN_SPANS = 8
"""Runs of revisions (or entries) a :class:`ClearSecret` line shows at most."""


@dataclass(frozen=True, slots=True)
class ClearSecret:
    """Secret input ``input`` of type ``type``: in clear in the commits of ``revs`` and in
    the definitions chained as ``entries`` (its default)."""

    type: str
    input: str
    revs: tuple[int, ...] = ()
    entries: tuple[int, ...] = ()

    def line(self) -> str:
        places = []
        if self.revs:
            places.append(f"the commits of revisions {spans(self.revs, SHOWN_SPANS)}")
        if self.entries:
            shown = spans(self.entries, SHOWN_SPANS)
            places.append(f"the definitions of chain entries {shown} (its default)")
        return f"secret input {self.type}.{self.input} is in clear in {' and '.join(places)}"

    def to_json(self) -> JSONObject:
        return {
            "type": self.type,
            "input": self.input,
            "revs": list(self.revs),
            "entries": list(self.entries),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Raw]) -> ClearSecret:
        return cls(data["type"], data["input"], tuple(data["revs"]), tuple(data["entries"]))


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of ``verify``: what was checked and every problem found, first one first."""

    commits: int
    head_rev: int
    head_hash: str
    resources: int
    problems: tuple[Problem, ...] = ()
    chain_upgrades: tuple[ChainUpgrade, ...] = ()
    """Re-encodings that changed the log's hashes (secrets sealed at rest), oldest first."""
    chain: ChainSummary | None = None
    clear_secrets: tuple[ClearSecret, ...] = ()
    """Secret inputs the history holds in clear (declared secret after; not a problem)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> VerifyJSON:
        out: VerifyJSON = {
            "ok": self.ok,
            "commits": self.commits,
            "head": {"rev": self.head_rev, "hash": self.head_hash},
            "resources": self.resources,
            "problems": [problem.to_json() for problem in self.problems],
            "chain_upgrades": [upgrade.to_json() for upgrade in self.chain_upgrades],
            "clear_secrets": [clear.to_json() for clear in self.clear_secrets],
        }
        if self.chain is not None:
            out["chain"], out["signing"] = self.chain.to_json()
        return out


@dataclass(frozen=True, slots=True)
class TransferReport:
    """What ``export`` wrote or ``import`` read: a revision range and what came with it.

    ``first_rev``/``last_rev`` are None when no commit was transferred.
    """

    commits: int
    first_rev: int | None
    last_rev: int | None
    last_hash: str
    applies: int = 0
    types: int = 0
    checkpoints: int = 0
    resources: int = 0
    extra: Mapping[str, JSON] = field(default_factory=dict)

    def to_json(self) -> dict[str, JSON]:
        return {
            "commits": self.commits,
            "first_rev": self.first_rev,
            "last_rev": self.last_rev,
            "last_hash": self.last_hash,
            "applies": self.applies,
            "types": self.types,
            "checkpoints": self.checkpoints,
            "resources": self.resources,
            **self.extra,
        }


def spans(numbers: Iterable[int], most: int | None = None) -> str:
    """``1-3, 7, 9-10`` for 1, 2, 3, 7, 9, 10 (sorted, without repeats); past ``most``
    spans, how many numbers are left out: ``1-3, 7 and 2 more``."""
    ordered = sorted(set(numbers))
    runs: list[tuple[int, int]] = []
    for number in ordered:
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    shown = runs if most is None else runs[:most]
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in shown)
    left = sum(b - a + 1 for a, b in runs[len(shown) :])
    return f"{text} and {left} more" if left else text
