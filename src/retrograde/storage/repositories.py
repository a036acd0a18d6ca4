"""The repositories of a store transaction: small protocols, each with its contract.

A :class:`~retrograde.storage.base.Transaction` holds one of each. Every method
runs inside the transaction it belongs to, so what a caller groups in one
``with store.write() as tx:`` block commits together or not at all. Methods that
change something raise :class:`~retrograde.errors.StateError` in a read
transaction. Driver errors leave as :class:`~retrograde.errors.StoreError`,
unknown revisions, applies and checkpoints as :class:`~retrograde.errors.NotFoundError`.
Batches are a handful of statements whatever their size, never one per row.
Applies and the lock are in :mod:`retrograde.storage.apply_repositories`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from retrograde.model.chain import ChainEntry, ChainPoint
from retrograde.model.change import Change
from retrograde.model.checkpoint import Checkpoint
from retrograde.model.commit import Commit, CommitBody
from retrograde.model.jsonvalue import JSONObject
from retrograde.model.keys import ChainUpgrade, StoreKeys
from retrograde.model.outputs import OutputDef
from retrograde.model.query import LogQuery
from retrograde.model.state import ResourceState, StateText
from retrograde.model.types import ResourceType, TypeKey
from retrograde.storage.signing import Signature


@dataclass(frozen=True, slots=True)
class CommitEntry:
    """A finished change, ready to be appended to the log, stamped ``timestamp``."""

    change: Change
    timestamp: str


class StoredCommit(Protocol):
    """A commit as the log keeps it, decoded only when asked (a damaged row stays readable
    as far as its revision and hash)."""

    @property
    def rev(self) -> int: ...

    @property
    def hash(self) -> str: ...

    def decode(self) -> Commit:
        """The commit; :class:`~retrograde.errors.CorruptLogError` when the row cannot be read."""
        ...

    def body(self) -> tuple[CommitBody, str]:
        """``(decode().body(), decode().hash)`` without building the commit (what a walk over
        the whole log hashes, replays and exports); the same CorruptLogError."""
        ...


class StateRepository(Protocol):
    """Committed state (one row per resource) and the stored type definitions."""

    def load(self, names: Collection[str] | None = None) -> dict[str, ResourceState]:
        """Committed state of the named resources (all when None); unknown names are absent."""
        ...

    def texts(self, names: Collection[str] | None = None) -> list[StateText]:
        """:meth:`load`, undecoded and sorted by name (for views that print it whole)."""
        ...

    def apply(self, changes: Sequence[Change]) -> None:
        """Committed state after ``changes`` in order: the last change of a resource wins."""
        ...

    def types(self, keys: Collection[TypeKey] | None = None) -> dict[TypeKey, ResourceType]:
        """Stored type definitions (all when None)."""
        ...

    def save_types(self, types: Collection[ResourceType]) -> None:
        """Insert or replace the definitions of ``types`` (by name and version)."""
        ...

    def put(self, states: Mapping[str, ResourceState | None]) -> None:
        """Make committed state of each named resource the given one (None: no resource)."""
        ...

    def outputs(self) -> list[OutputDef]:
        """The output definitions of the stack file last staged, in file order."""
        ...

    def save_outputs(self, outputs: Sequence[OutputDef]) -> None:
        """Make ``outputs`` the whole set of output definitions."""
        ...


class LogRepository(Protocol):
    """The append-only commit log, its search index and its reads by revision.

    Revisions are gapless from 1; each commit's hash chains onto the previous
    one; commits are never updated or deleted; timestamps never go back.
    """

    def head(self) -> tuple[int, str]:
        """The newest revision and its hash; ``(0, GENESIS_HASH)`` for an empty log."""
        ...

    def append(
        self, apply_id: int, principal: str, message: str, entries: Sequence[CommitEntry]
    ) -> list[Commit]:
        """One commit per entry, numbered from the head and hashed onto it, plus their index.

        Serialises appenders (so revisions stay gapless across processes). A
        timestamp earlier than the commit before it takes that commit's time.
        Committed state and the staged log are the caller's to update.
        """
        ...

    def get(self, rev: int) -> Commit:
        """The commit of ``rev``."""
        ...

    def get_many(self, revs: Collection[int]) -> list[Commit]:
        """The commits of ``revs``, oldest first; the lowest unknown one is NotFoundError."""
        ...

    def of_apply(self, apply_id: int) -> list[Commit]:
        """Every commit of an apply, oldest first; an unknown apply is NotFoundError."""
        ...

    def between(self, after_rev: int, upto_rev: int) -> list[Commit]:
        """The commits with ``after_rev < rev <= upto_rev``, oldest first."""
        ...

    def batches(self, after_rev: int, upto_rev: int) -> Iterator[list[Commit]]:
        """The same commits as :meth:`between`, a bounded batch at a time (bounded memory)."""
        ...

    def stored(self, after_rev: int, upto_rev: int) -> Iterator[Sequence[StoredCommit]]:
        """The rows of :meth:`batches`, undecoded: the log as it is, for export and verify."""
        ...

    def load(self, commits: Sequence[tuple[CommitBody, str]]) -> None:
        """Insert the commits ``(body, hash)`` as they are, with their index (import into an
        empty log).

        The caller has checked the chain: revisions follow the head, hashes are
        theirs. Serialises with appenders like :meth:`append`; ``()`` only locks.
        """
        ...

    def indexes_deferred(self) -> AbstractContextManager[None]:
        """A block of :meth:`load` calls into an empty log that builds the log's secondary
        indexes once at its end instead of row by row (where the store can do that
        inside the transaction). If the block raises, nothing is rebuilt: the caller's
        transaction rolls back, indexes included.
        """
        ...

    def indexed_inputs(self) -> int:
        """How many ``(input, rev)`` entries the input index holds."""
        ...

    def search(self, query: LogQuery) -> list[Commit]:
        """Commits matching ``query``, newest first, at most ``query.limit``, from indexes."""
        ...

    def blame(self, resource: str, names: Collection[str]) -> dict[str, Commit]:
        """For each input in ``names``, the newest commit of ``resource`` that set it.

        Never reads the resource's commits past its ``run``; names no commit set
        are absent.
        """
        ...

    def kinds_before(self, revs: Collection[int]) -> dict[int, TypeKey]:
        """``rev -> (type, version)`` each commit's resource had just before that commit.

        Revisions of commits with no earlier commit of their resource are absent.
        """
        ...


class CheckpointRepository(Protocol):
    """Named, immutable revisions."""

    def add(self, checkpoint: Checkpoint) -> None:
        """Store a checkpoint: a taken name is AlreadyExistsError, a revision outside
        ``0..head`` NotFoundError."""
        ...

    def get(self, name: str) -> Checkpoint:
        """The checkpoint called ``name``."""
        ...

    def list(self) -> list[Checkpoint]:
        """Every checkpoint, by revision then name."""
        ...


class SnapshotRepository(Protocol):
    """Copies of committed state every few thousand revisions, so no question replays the log."""

    def take_if_due(self, before_rev: int, last_rev: int) -> bool:
        """Snapshot committed state at ``last_rev`` when an append from ``before_rev`` crossed
        the interval; committed state must already include the append. Whether one was taken."""
        ...

    def state_at(self, rev: int) -> dict[str, ResourceState]:
        """Committed state as of ``rev`` (0: empty): nearest snapshot plus a short replay.

        ``rev`` outside ``0..head`` is NotFoundError.
        """
        ...

    def all(self) -> Iterator[tuple[int, dict[str, ResourceState]]]:
        """Every snapshot as ``(rev, state)``, oldest first (for verification)."""
        ...


class KeysRepository(Protocol):
    """The store's key record (id and wrapped data key) and its chain upgrades.

    The store holds no key that decrypts anything: the data key is wrapped
    under the key file, which lives outside the store (docs/security.md).
    """

    def load(self) -> StoreKeys:
        """The store's id and wrapped data key (None before the first secret)."""
        ...

    def save(self, keys: StoreKeys) -> None:
        """Replace the key record (the first secret, ``rekey``, an import adopting an
        export's key)."""
        ...

    def upgrades(self) -> list[ChainUpgrade]:
        """Every recorded chain upgrade, oldest first."""
        ...

    def record_upgrade(self, upgrade: ChainUpgrade) -> None:
        """Keep the record of a re-encoding that changed the log's hashes."""
        ...


class ChainRepository(Protocol):
    """Chain entries (:mod:`retrograde.model.chain`) and the signatures of chain heads.

    Repositories that keep a chained record append its entry themselves, in
    the same transaction; this one reads the chain, loads it (import) and
    chains what an older store kept unchained.
    """

    def head(self) -> ChainPoint:
        """The chain's last element: the newest commit, or an entry after it."""
        ...

    def entries(self) -> Iterator[ChainEntry]:
        """Every entry in sequence order (a damaged row is CorruptLogError)."""
        ...

    def count(self) -> int:
        """How many entries the chain holds."""
        ...

    def records(self) -> dict[str, dict[str, JSONObject]]:
        """What the store holds now of each entry kind, by key: the data each record's latest
        entry must equal."""
        ...

    def load(self, entries: Sequence[ChainEntry]) -> None:
        """Insert ``entries`` as they are (import; the caller has checked their chain)."""
        ...

    def upgrade(self, reason: str) -> ChainEntry:
        """An ``upgrade`` entry recording the head as it is (``reason`` says why)."""
        ...

    def chain_stored(self, *, applies_too: bool = True) -> list[ChainEntry]:
        """An entry for every stored record new to the chain or changed since its entry
        (apply records only with ``applies_too``: :meth:`AppliesRepository.load` chains
        the records it loads)."""
        ...

    def signatures(self) -> list[Signature]:
        """Every signature of a chain head, oldest first."""
        ...

    def load_signatures(self, found: Sequence[Signature]) -> None:
        """Insert signatures as they are (import)."""
        ...
