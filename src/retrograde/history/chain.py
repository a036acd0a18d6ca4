"""The chain audit: what every commit of a log must satisfy, checked one commit at a time.

Pure (no store, no files): ``verify`` feeds it the stored commits, ``import``
the commits of an export file, both in revision order, and each decides what
a problem means (``verify`` lists them, ``import`` stops at the first). For
each commit:

- revisions run 1, 2, 3, ... without a gap;
- its hash is SHA-256 over the previous hash and its content (canonical
  JSON), so editing any field of a commit, or its hash, shows at that
  revision;
- its timestamp is not earlier than the previous commit's (time-range
  search relies on it);
- it replays onto the state the commits before it left
  (:func:`~retrograde.planning.replay.replay_body`); after the first commit
  that does not, replay stops (the state would be meaningless).

The commits audited are decoded from JSON (stored rows, export lines), which
holds no NaN or infinity; hashing relies on it (``commit_hash(finite=True)``).

Chain entries (:mod:`retrograde.model.chain`) are fed in their place between
commits (:meth:`ChainAudit.check_entry`): their sequence runs 1, 2, 3...
without a gap, each sits after the commit it names and is hashed onto the
element before it. The audit keeps the latest entry of each record, which
:func:`record_problems` compares with the records a store (or an export
file) holds, and the hash at the chain points it was asked to watch, which
:func:`signature_problems` and :func:`head_problems` check signatures and
heads kept elsewhere against. ``verify`` and ``import`` use the same checks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from retrograde.errors import CorruptLogError
from retrograde.model.chain import ChainEntry, ChainPoint, EntryKind
from retrograde.model.change import ActionName
from retrograde.model.commit import GENESIS_HASH, CommitBody, commit_hash
from retrograde.model.jsonvalue import JSONObject, canonical_bytes
from retrograde.model.reports import Problem, ProblemKind
from retrograde.model.state import ResourceState
from retrograde.planning.replay import replay_body
from retrograde.storage.signing import Signature


@dataclass
class ChainAudit:
    """Where a walk over a log stands: the last revision, hash and time, and replayed state."""

    rev: int = 0
    hash: str = GENESIS_HASH
    timestamp: str | None = None
    state: dict[str, ResourceState] = field(default_factory=dict)
    replaying: bool = True
    inputs: int = 0
    """Input names in the diffs seen so far (what the input index must hold)."""
    seq: int = 0
    """The last chain entry's sequence number."""
    commit_hash: str = GENESIS_HASH
    """The last commit's hash (``hash`` is the chain's, which an entry may have moved on)."""
    chained: dict[str, dict[str, ChainEntry]] = field(default_factory=dict)
    """The latest entry of each record, by entry kind and key."""
    watch: set[int] = field(default_factory=set)
    """Revisions whose chain points' hashes to keep in ``points``."""
    points: dict[tuple[int, int], str] = field(default_factory=dict)
    applies: list[tuple[int, int]] = field(default_factory=list)
    """The chain point of each ``apply-begin`` entry, in chain order."""

    def check(self, body: CommitBody, stored_hash: str) -> list[Problem]:
        """The problems of the commit with ``body`` and ``stored_hash`` as the next commit of
        the log, then move past it.

        Bodies, not :class:`Commit` objects: a walk over a long log reads a million of
        them, and the body is what is hashed and replayed.
        """
        rev, timestamp = body["rev"], body["timestamp"]
        problems: list[Problem] = []
        if rev != self.rev + 1:
            problems.append(self._gap(rev))
        computed = commit_hash(body, self.hash, finite=True)
        if computed != stored_hash:
            problems.append(_hash_problem(rev, stored_hash, computed))
        if self.timestamp is not None and timestamp < self.timestamp:
            problems.append(
                Problem(
                    ProblemKind.ORDER,
                    f"timestamp {timestamp} is earlier than the previous commit's",
                    rev=rev,
                )
            )
        if self.replaying:
            replayed = self._replay(body)
            if replayed is not None:
                problems.append(replayed)
        self.rev, self.hash, self.timestamp = rev, stored_hash, timestamp
        self.commit_hash = stored_hash
        if body["action"] != _MOVE:  # changed_inputs(body), counted
            self.inputs += len(body["diff"])
        if self.watch and rev in self.watch:
            self.points[(rev, self.seq)] = stored_hash
        return problems

    def check_entry(self, entry: ChainEntry) -> list[Problem]:
        """The problems of ``entry`` as the next element of the chain, then move past it."""
        problems = [
            problem
            for problem in (_entry_gap(self, entry), _entry_place(self, entry))
            if problem is not None
        ]
        computed = commit_hash(entry.body(), self.hash)
        if computed != entry.hash:
            problems.append(
                Problem(
                    ProblemKind.ENTRY,
                    f"{entry.describe()}: hash mismatch: stored {entry.hash[:12]}…, content and "
                    f"previous hash give {computed[:12]}… (the entry or the element before it "
                    "was altered)",
                    rev=self.rev,
                )
            )
        if entry.kind not in _KINDS:
            problems.append(
                Problem(ProblemKind.ENTRY, f"{entry.describe()}: unknown kind", rev=self.rev)
            )
        self.seq, self.hash = entry.seq, entry.hash
        self.chained.setdefault(entry.kind, {})[entry.key] = entry
        if entry.kind == EntryKind.APPLY_BEGIN:
            self.applies.append((self.rev, entry.seq))
        if self.watch and self.rev in self.watch:
            self.points[(self.rev, entry.seq)] = entry.hash
        return problems

    def point(self) -> ChainPoint:
        """Where the audit stands: the last element it checked."""
        return ChainPoint(self.rev, self.seq, self.hash)

    def skip(self, rev: int, stored_hash: str) -> None:
        """Move past a commit that cannot be read: the chain goes on from its stored hash,
        replay stops."""
        self.rev, self.hash, self.replaying = rev, stored_hash, False

    def _gap(self, rev: int) -> Problem:
        missing = f"rev {self.rev + 1}" + (f" to {rev - 1}" if rev - 1 > self.rev + 1 else "")
        return Problem(
            ProblemKind.GAP,
            f"expected rev {self.rev + 1}, found rev {rev}: {missing} missing before it",
            rev=rev,
        )

    def _replay(self, body: CommitBody) -> Problem | None:
        try:
            replay_body(self.state, body)
        except CorruptLogError as error:
            self.replaying = False
            return Problem(
                ProblemKind.REPLAY, error.message, rev=body["rev"], resource=body["resource"]
            )
        return None


def _hash_problem(rev: int, stored: str, computed: str) -> Problem:
    return Problem(
        ProblemKind.HASH,
        f"hash mismatch: stored {stored[:12]}…, content and previous hash "
        f"give {computed[:12]}… (the commit or the one before it was altered)",
        rev=rev,
    )


_KINDS = frozenset(kind.value for kind in EntryKind)
_MOVE = ActionName.MOVE.value
"""A move changes no input (see :func:`retrograde.model.commit.changed_inputs`)."""


def _entry_gap(audit: ChainAudit, entry: ChainEntry) -> Problem | None:
    if entry.seq == audit.seq + 1:
        return None
    return Problem(
        ProblemKind.ENTRY,
        f"{entry.describe()}: expected chain entry {audit.seq + 1} (entries missing or moved)",
        rev=audit.rev,
    )


def _entry_place(audit: ChainAudit, entry: ChainEntry) -> Problem | None:
    if entry.after_rev == audit.rev:
        return None
    return Problem(
        ProblemKind.ENTRY,
        f"{entry.describe()}: says it follows rev {entry.after_rev}, but it follows rev "
        f"{audit.rev}",
        rev=audit.rev,
    )


class EntryFeed:
    """Chain entries handed to an audit in their place between commits (for a walk that
    reads commits and entries from separate places)."""

    def __init__(self, audit: ChainAudit, entries: Sequence[ChainEntry]) -> None:
        self._audit = audit
        self._entries = entries
        self._next = 0
        self.before = entries[0].after_rev + 1 if entries else None
        """Feed before the commit of this revision (None: no entry left)."""

    def upto(self, rev: int) -> list[Problem]:
        """Check the entries that sit after commit ``rev`` or earlier (call before commit
        ``rev + 1``)."""
        problems: list[Problem] = []
        entries = self._entries
        while self._next < len(entries) and entries[self._next].after_rev <= rev:
            problems.extend(self._audit.check_entry(entries[self._next]))
            self._next += 1
        self.before = entries[self._next].after_rev + 1 if self._next < len(entries) else None
        return problems

    def rest(self) -> list[Problem]:
        """Check every entry not yet fed (those after the last commit)."""
        problems: list[Problem] = []
        for entry in self._entries[self._next :]:
            problems.extend(self._audit.check_entry(entry))
        self._next = len(self._entries)
        self.before = None
        return problems


def record_problems(
    audit: ChainAudit, records: Mapping[str, Mapping[str, JSONObject]], *, complete: bool = True
) -> list[Problem]:
    """Where the records held (by entry kind and key) depart from their latest chain entries.

    ``complete``: the records are all the holder has (a store), so a chained record it
    lacks, or an apply or checkpoint it has that the chain lacks, is a problem too. Type
    definitions are chained when first used, so an unchained one is not.
    """
    problems: list[Problem] = []
    for kind in (EntryKind.TYPE, EntryKind.CHECKPOINT, EntryKind.APPLY_BEGIN, EntryKind.APPLY_END):
        held = records.get(kind, {})
        chained = audit.chained.get(kind, {})
        for key in sorted(held.keys() & chained.keys()):
            entry = chained[key]
            if canonical_bytes(held[key]) != canonical_bytes(entry.data):
                fields = _differing(held[key], entry.data)
                problems.append(
                    Problem(
                        ProblemKind.RECORD,
                        f"{entry.describe()}: the stored {_NOUNS[kind]} differs from it "
                        f"(in {fields})",
                    )
                )
        if not complete:
            continue
        for key in sorted(chained.keys() - held.keys()):
            problems.append(
                Problem(
                    ProblemKind.RECORD,
                    f"{chained[key].describe()}: the store has no such {_NOUNS[kind]}",
                )
            )
        if kind is not EntryKind.TYPE:
            for key in sorted(held.keys() - chained.keys(), key=_numeric_first):
                problems.append(
                    Problem(
                        ProblemKind.RECORD,
                        f"{_NOUNS[kind]} {key}: not in the chain (added to the store outside it)",
                    )
                )
    return problems


_NOUNS = {
    EntryKind.TYPE: "type definition",
    EntryKind.CHECKPOINT: "checkpoint",
    EntryKind.APPLY_BEGIN: "apply record",
    EntryKind.APPLY_END: "apply outcome",
}


def _differing(held: JSONObject, chained: JSONObject) -> str:
    if not isinstance(held, dict) or not isinstance(chained, dict):
        return "its whole value"
    keys = sorted(
        key
        for key in held.keys() | chained.keys()
        if key not in held
        or key not in chained
        or canonical_bytes(held[key]) != canonical_bytes(chained[key])
    )
    return ", ".join(keys) or "key order"


def _numeric_first(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (0, key)


def signature_problems(
    audit: ChainAudit,
    signatures: Sequence[Signature],
    *,
    trusted: Collection[bytes] | None = None,
    trust_from: int = 0,
) -> list[Problem]:
    """Signatures that are invalid or do not match the chain; with ``trusted`` (raw public
    keys), also every apply beginning at or after rev ``trust_from`` without a trusted
    signature in its span of the chain, and a chain head no trusted signature covers
    (whatever ``trust_from``: the head vouches for all before it)."""
    problems: list[Problem] = []
    good: list[tuple[int, int]] = []
    for signature in signatures:
        point, key = signature.point, signature.key_id
        where = f"signature by key {key} of rev {point.rev} entry {point.seq}"
        held = audit.points.get((point.rev, point.seq))
        if not signature.valid():
            problems.append(Problem(ProblemKind.SIGNATURE, f"{where}: invalid", rev=point.rev))
        elif held != point.hash:
            problems.append(
                Problem(
                    ProblemKind.SIGNATURE,
                    f"{where}: the chain has no such head (rewritten or cut after it was signed)",
                    rev=point.rev,
                )
            )
        elif trusted is not None and signature.public_key in trusted:
            good.append((point.rev, point.seq))
        elif trusted is not None:
            problems.append(
                Problem(ProblemKind.SIGNATURE, f"{where}: not a trusted key", rev=point.rev)
            )
    if trusted is not None:
        problems.extend(_unsigned(audit, sorted(good), trust_from))
    return problems


def _unsigned(audit: ChainAudit, good: list[tuple[int, int]], trust_from: int) -> list[Problem]:
    """Applies (after ``trust_from``) and a head that no trusted signature covers."""
    problems: list[Problem] = []
    head = (audit.rev, audit.seq)
    spans = [*audit.applies, None]
    for start, end in pairwise(spans):
        assert start is not None
        if start[0] < trust_from:
            continue
        stop = end if end is not None else (head[0], head[1] + 1)
        if not any(start <= point < stop for point in good):
            problems.append(
                Problem(
                    ProblemKind.SIGNATURE,
                    f"the apply that begins at chain entry {start[1]} carries no signature by a "
                    "trusted key",
                    rev=start[0],
                )
            )
    if head != (0, 0) and (not good or good[-1] != head):
        problems.append(
            Problem(
                ProblemKind.SIGNATURE,
                f"the chain head (rev {head[0]}, entry {head[1]}) carries no signature by a "
                "trusted key",
                rev=head[0],
            )
        )
    return problems


def head_problems(
    audit: ChainAudit, heads: Sequence[tuple[int, str]], source: str
) -> list[Problem]:
    """Heads kept elsewhere (``rev``, chain hash at some point after commit ``rev``) that
    the chain does not reach or does not hold."""
    problems: list[Problem] = []
    for rev, hash_ in heads:
        held = {value for (at, _), value in audit.points.items() if at == rev}
        if rev == 0:
            held.add(GENESIS_HASH)
        if hash_ not in held:
            past = rev > audit.rev
            problems.append(
                Problem(
                    ProblemKind.WITNESS,
                    f"{source} holds rev {rev} with hash {hash_[:12]}…, "
                    + (
                        f"but the chain ends at rev {audit.rev} (its tail was cut off)"
                        if past
                        else "which the chain does not have there (the history was rewritten)"
                    ),
                    rev=rev,
                )
            )
    return problems
