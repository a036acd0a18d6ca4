"""Building a store from an export: every line checked, committed state rebuilt by replay.

Import runs in one write transaction on an empty store, so it either brings
the whole file in or nothing. Lines are read as a stream and checked as they
come: segments must continue one another, and each commit goes through the
chain audit (:mod:`retrograde.history.chain`: no gap, its hash follows from
its content and the previous hash, time does not go back, it replays onto
the state before it); its ``reverse`` must be the reverse of its ``diff``. A
line that fails is a :class:`CorruptLogError` naming the file, the line and
the revision. Commits go in a batch at a time (:meth:`LogRepository.load`),
with committed state brought up and a snapshot considered after each batch,
as appends do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from retrograde.errors import CorruptLogError, StateError
from retrograde.history import lines
from retrograde.history.chain import ChainAudit, record_problems, signature_problems
from retrograde.history.chain_records import (
    add_chained_records,
    check_entry_fields,
    file_records,
)
from retrograde.history.commit_lines import check_integer, line_body, reverses
from retrograde.memory import gc_paused
from retrograde.model.apply import APPLY_FIELDS, ApplyKind, ApplyStatus
from retrograde.model.chain import ChainEntry, type_key
from retrograde.model.checkpoint import Checkpoint
from retrograde.model.commit import GENESIS_HASH, CommitBody
from retrograde.model.jsonvalue import JSON, JSONObject, Raw
from retrograde.model.keys import ChainUpgrade, StoreKeys
from retrograde.model.reports import ProblemKind, TransferReport
from retrograde.model.types import ResourceType, TypeKey
from retrograde.storage.base import Transaction
from retrograde.storage.signing import Signature
from retrograde.storage.sql.reencoding import forget_loaded

BATCH = 5_000
"""Commits loaded per call; a multiple of it ends each batch, as snapshots expect."""

_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError)
"""What a record of the wrong shape makes the decoding of its fields raise."""


def require_empty(tx: Transaction) -> None:
    """Refuse (``StateError``) a store that has any commit, apply, resource, staged change
    or checkpoint: an import must not mix two histories."""
    checks: tuple[tuple[str, Callable[[], bool]], ...] = (
        ("commits", lambda: tx.log.head()[0] > 0),
        ("applies", lambda: len(tx.applies.page(limit=1)) > 0),
        ("resources", lambda: len(tx.state.load()) > 0),
        ("staged changes", lambda: tx.staged.count() > 0),
        ("checkpoints", lambda: len(tx.checkpoints.list()) > 0),
    )
    for what, present in checks:
        if present():
            raise StateError(
                f"cannot import: the store already has {what}; import into an empty store"
            )


def _upgrade_json(upgrade: ChainUpgrade) -> dict[str, JSON]:
    shown = upgrade.to_json()
    return {key: shown[key] for key in ("old_rev", "old_hash", "new_hash")}


def import_log(
    tx: Transaction,
    records: Iterable[bytes],
    *,
    source: str,
    reseal: Callable[[], ChainUpgrade | None] | None = None,
) -> TransferReport:
    """Load export lines ``records`` into the empty store of ``tx`` (else
    :class:`StateError`), checking every line and hash (:class:`CorruptLogError` naming
    ``source``, line and rev); all or nothing (the caller's write transaction).

    ``reseal`` seals what segments of the older format brought in clear; it runs once
    the commits and types are loaded and before anything is chained onto them, since
    sealing rehashes the commits (its chain upgrade goes in the report)."""
    tx.log.load(())
    require_empty(tx)
    loader = _Loader(tx, source)
    with gc_paused():
        with tx.log.indexes_deferred():
            for number, raw in enumerate(records, 1):
                if raw.strip():
                    loader.feed(number, *lines.parse(raw, number, source))
            loader.load_rest()
        return loader.finish(reseal)


class _Loader:
    """The state of one import: where the chain stands, what is pending, what was seen."""

    def __init__(self, tx: Transaction, source: str) -> None:
        self.tx = tx
        self.source = source
        self.line = 0
        self.audit = ChainAudit()
        self.segments = 0
        self.segment_end: tuple[int, int | None, str] = (0, None, GENESIS_HASH)
        self.entries: list[ChainEntry] = []
        self.entries_seen = 0
        self.signatures: list[Signature] = []
        self.raw_types: dict[str, JSONObject] = {}
        self.raw_applies: dict[int, dict[str, Any]] = {}
        self.dirty: set[str] = set()
        self.pending: list[tuple[CommitBody, str]] = []
        self.flushed_rev = 0
        self.applies: dict[int, dict[str, Any]] = {}
        self.types: dict[TypeKey, ResourceType] = {}
        self.checkpoints: dict[str, dict[str, Any]] = {}
        self.needs: dict[tuple[str, Any], int] = {}
        self.keys: StoreKeys | None = None
        self.clear_segments = 0

    def feed(self, number: int, kind: str, fields: dict[str, Any]) -> None:
        self.line = number
        if kind != "segment" and not self.segments:
            raise self._corrupt("the file does not start with a segment line")
        handlers = {
            "segment": self._segment,
            "key": self._key,
            "checkpoint": self._checkpoint,
            "type": self._type,
            "apply": self._apply,
            "commit": self._commit,
            "entry": self._entry,
            "signature": self._signature,
        }
        try:
            handlers[kind](fields)
        except _MALFORMED as error:
            raise self._corrupt(f"malformed {kind} record ({_short(error)})") from None

    def load_rest(self) -> None:
        """At the end of the file: the last segment checked, the last commits loaded."""
        if not self.segments:
            raise CorruptLogError(f"{self.source}: empty file, not a retrograde export")
        self.line += 1
        self._end_segment()
        self._check_chain()
        self._flush()

    def finish(self, reseal: Callable[[], ChainUpgrade | None] | None) -> TransferReport:
        """The records after the commits (with the log's indexes built again)."""
        self._check_references()
        self.tx.state.save_types(self.types.values())
        if self.keys is not None:
            self.tx.keys.save(self.keys)
        sealed = reseal() if reseal is not None and self.clear_segments else None
        if not self.entries_seen and self.audit.rev:
            self.tx.chain.upgrade("import of an export without chain entries")
        self.tx.applies.load([*self.applies.values()])
        for row in self.checkpoints.values():
            self.tx.checkpoints.add(Checkpoint(**row))
        self.tx.chain.load_signatures(self.signatures)
        if not self.entries_seen:  # the apply records were chained as they were loaded
            self.tx.chain.chain_stored(applies_too=False)
        rev = self.audit.rev
        return TransferReport(
            commits=rev,
            first_rev=1 if rev else None,
            last_rev=rev or None,
            last_hash=sealed.new_hash if sealed else self.audit.commit_hash,
            applies=len(self.applies),
            types=len(self.types),
            checkpoints=len(self.checkpoints),
            resources=len(self.audit.state),
            extra={
                "segments": self.segments,
                "entries": self.entries_seen,
                "signatures": len(self.signatures),
            }
            | ({"clear_segments": self.clear_segments} if self.clear_segments else {})
            | ({"chain_upgrade": _upgrade_json(sealed)} if sealed else {}),
        )

    # one method per line kind

    def _segment(self, fields: dict[str, Any]) -> None:
        self._end_segment()
        after, previous = int(fields["after_rev"]), str(fields["previous_hash"])
        if self.segments and after == 0 and self._restated(fields.get("restates")):
            self._start_over()
        v2 = fields["version"] >= 2
        self.segment_end = (
            int(fields["last_rev"]),
            _seq(fields["last_seq"]) if v2 else None,
            str(fields["last_hash"]),
        )
        if not self.segments and after != 0:
            raise self._corrupt(
                f"the export starts after rev {after} (made with --since); "
                "import needs the whole log from rev 1"
            )
        if (after, previous) != (self.audit.rev, self.audit.hash):
            raise self._corrupt(
                f"segment continues rev {after}, but the file so far ends at rev {self.audit.rev}"
            )
        if v2 and fields["after_seq"] != self.audit.seq:
            raise self._corrupt(
                f"segment continues chain entry {fields['after_seq']}, but the file so far "
                f"ends at entry {self.audit.seq}"
            )
        self.segments += 1
        if fields.get("secrets") != lines.SEALED:
            self.clear_segments += 1

    def _restated(self, restates: Raw) -> bool:
        """Whether a segment says it replaces all read so far (see :mod:`..lines`)."""
        return bool(restates == {"rev": self.audit.rev, "hash": self.audit.hash})

    def _start_over(self) -> None:
        """Forget the commits loaded so far: the segment that starts restates them (sealed).
        Records of applies, types and checkpoints stay; the new segment brings them again."""
        forget_loaded(self.tx)
        self.audit = ChainAudit()
        self.segments = 0
        self.clear_segments = 0
        self.segment_end = (0, None, GENESIS_HASH)
        self.entries, self.entries_seen, self.signatures = [], 0, []
        self.dirty, self.pending, self.flushed_rev, self.needs = set(), [], 0, {}

    def _key(self, fields: dict[str, Any]) -> None:
        """The exporting store's id and wrapped data key: the imported store takes both, so
        the key file that opened the exported secrets opens them here (the latest segment's
        wrapping wins: ``rekey`` may have rewrapped it between segments)."""
        store_id, wrapped = fields["store_id"], fields["wrapped_key"]
        if not (isinstance(store_id, str) and isinstance(wrapped, str)):
            raise TypeError("store_id and wrapped_key must be text")
        if self.keys is not None and self.keys.store_id != store_id:
            raise self._corrupt("key record of another store than the segments before it")
        self.keys = StoreKeys(store_id, wrapped)

    def _checkpoint(self, fields: dict[str, Any]) -> None:
        row = {key: fields[key] for key in ("name", "rev", "description", "principal")}
        row["timestamp"] = fields["timestamp"]
        if not all(isinstance(row[key], str) for key in ("name", "description", "principal")):
            raise TypeError("checkpoint fields must be text")
        check_integer(row["rev"], "rev")
        if not isinstance(row["timestamp"], str):
            raise TypeError("a checkpoint's timestamp must be text")
        known = self.checkpoints.setdefault(row["name"], row)
        if known != row:
            raise self._corrupt(f"checkpoint {row['name']!r} differs from an earlier segment")

    def _type(self, fields: dict[str, Any]) -> None:
        parsed = ResourceType.from_json(fields["definition"])
        parsed.to_json()  # a definition the store could not write back is malformed too
        self.types[(parsed.name, parsed.version)] = parsed
        self.raw_types[type_key(parsed.name, parsed.version)] = fields["definition"]

    def _entry(self, fields: dict[str, Any]) -> None:
        entry = ChainEntry.from_json(fields)
        check_entry_fields(entry)
        for problem in self.audit.check_entry(entry):
            raise self._corrupt(_import_detail(problem.detail), self.audit.rev)
        self.entries.append(entry)
        self.entries_seen += 1

    def _signature(self, fields: dict[str, Any]) -> None:
        signature = Signature.from_json(fields)
        self.signatures.append(signature)
        self.audit.watch.add(signature.point.rev)

    def _apply(self, fields: dict[str, Any]) -> None:
        """Keep the apply's latest record; one still unfinished in the file ends as failed.

        An apply exported while running (or interrupted) cannot be resumed
        here, where its journal does not exist; a later segment that saw it
        finish replaces this record.
        """
        row = {key: fields[key] for key in APPLY_FIELDS if key != "kind"}
        kind = fields.get(lines.APPLY_KIND, ApplyKind.APPLY.value)  # absent in older exports
        row["kind"] = ApplyKind(kind).value
        row["principal_source"] = fields.get("principal_source")
        self.raw_applies[row["id"]] = dict(row)
        if ApplyStatus(row["status"]) in (ApplyStatus.RUNNING, ApplyStatus.INTERRUPTED):
            row["status"] = ApplyStatus.FAILED.value
        _check_apply(row)
        self.applies[row["id"]] = row

    def _commit(self, fields: dict[str, Any]) -> None:
        body, hash_ = line_body(fields)
        rev = body["rev"]
        for problem in self.audit.check(body, hash_):
            raise self._corrupt(
                _import_detail(problem.detail), None if problem.kind is ProblemKind.GAP else rev
            )
        if not reverses(body):
            raise self._corrupt("reverse is not the reverse of diff", rev)
        self.dirty.add(body["resource"])
        self.pending.append((body, hash_))
        self.needs.setdefault(("type", (body["type"], body["version"])), rev)
        if body["apply_id"] is not None:
            self.needs.setdefault(("apply", body["apply_id"]), rev)
        if len(self.pending) >= BATCH:
            self._flush()

    # checks

    def _end_segment(self) -> None:
        """The segment that ends here must hold every commit and entry its first line
        promised."""
        rev, seq, hash_ = self.segment_end
        if not self.segments:
            return
        if (rev, hash_) != (self.audit.rev, self.audit.hash) or (
            seq is not None and seq != self.audit.seq
        ):
            raise self._corrupt(
                f"the segment before this point promised commits up to rev "
                f"{rev}"
                + ("" if seq is None else f" and chain entry {seq}")
                + f" but ends at rev {self.audit.rev}, entry {self.audit.seq}"
            )

    def _check_chain(self) -> None:
        """The file's records must agree with their chain entries, its signatures with its
        chain; records only the chain holds are brought in from it."""
        if not self.entries_seen:
            return
        held = file_records(self.raw_types, self.raw_applies, self.checkpoints)
        for problem in record_problems(self.audit, held, complete=False):
            raise CorruptLogError(f"{self.source}: {problem.detail}")
        for problem in signature_problems(self.audit, self.signatures):
            raise CorruptLogError(f"{self.source}: {problem.detail}", rev=problem.rev)
        add_chained_records(self.audit, self.types, self.applies, self.checkpoints)

    def _check_references(self) -> None:
        for (kind, key), rev in sorted(self.needs.items(), key=lambda item: item[1]):
            known = self.types if kind == "type" else self.applies
            if key not in known:
                shown = f"type {key[0]} v{key[1]}" if kind == "type" else f"apply {key}"
                raise CorruptLogError(
                    f"{self.source}: rev {rev} names {shown}, which the file does not contain",
                    rev=rev,
                )
        for name, row in self.checkpoints.items():
            if not 0 <= int(row["rev"]) <= self.audit.rev:
                raise CorruptLogError(
                    f"{self.source}: checkpoint {name!r} names rev {row['rev']}, "
                    f"beyond the last rev {self.audit.rev}"
                )

    def _corrupt(self, problem: str, rev: int | None = None) -> CorruptLogError:
        where = f"{self.source}:{self.line}" + (f" (rev {rev})" if rev is not None else "")
        return CorruptLogError(f"{where}: {problem}", rev=rev)

    # writing

    def _flush(self) -> None:
        """Load the pending commits, bring their resources' state up, consider a snapshot."""
        self.tx.chain.load(self.entries)
        self.entries = []
        if not self.pending:
            return
        self.tx.log.load(self.pending)
        last = self.pending[-1][0]["rev"]
        self.pending = []
        state = self.audit.state
        self.tx.state.put({name: state.get(name) for name in self.dirty})
        self.dirty = set()
        self.tx.snapshots.take_if_due(self.flushed_rev, last)
        self.flushed_rev = last


def _check_apply(row: dict[str, Any]) -> None:
    """The fields an apply record must have, of the kinds the store keeps."""
    for key in ("id", "succeeded", "failed", "skipped", "pid"):
        check_integer(row[key], key)
    for key in ("principal", "message", "started_at", "host"):
        if not isinstance(row[key], str):
            raise TypeError(f"{key} must be text")
    if not (row["ended_at"] is None or isinstance(row["ended_at"], str)):
        raise TypeError("ended_at must be text or null")
    if not isinstance(row["failures"], dict):
        raise TypeError("failures must be an object")


def _seq(value: object) -> int:
    check_integer(value, "a chain entry's number")
    assert isinstance(value, int)
    return value


def _import_detail(detail: str) -> str:
    """The audit's wording, said of a line rather than of a stored commit."""
    return detail.replace("stored ", "the line says ", 1) if detail.startswith("hash") else detail


def _short(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return repr(error)[:200]
