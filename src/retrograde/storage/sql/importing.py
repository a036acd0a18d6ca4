"""Building a store from an export: every line checked, committed state rebuilt by replay.

Import runs in one write transaction on an empty store, so it either brings
the whole file in or nothing. Lines are read as a stream and checked as they
come: segments must continue one another, revisions must run on without a
gap, each commit's hash must follow from its content and the previous hash,
and its ``reverse`` must be the reverse of its ``diff``. A line that fails is
a :class:`CorruptLogError` naming the file, the line and the revision.
Committed state is rebuilt with :func:`retrograde.planning.replay.replay_commit`;
commits go in with one ``executemany`` per batch, and snapshots are written
at the same revisions ``record_commits`` would consider them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, literal, select, text

from retrograde.errors import CorruptLogError, StateError
from retrograde.model.apply import ApplyStatus
from retrograde.model.change import reverse_diff
from retrograde.model.commit import GENESIS_HASH, Commit, commit_hash
from retrograde.model.reports import TransferReport
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType
from retrograde.planning.replay import replay_commit
from retrograde.storage import export_lines
from retrograde.storage.sql import rows, snapshots
from retrograde.storage.sql.commit_payload import same_json
from retrograde.storage.sql.log import index_commits
from retrograde.storage.sql.schema import (
    applies,
    checkpoints,
    commits,
    resources,
    staged,
    types,
)
from retrograde.storage.sql.statements import keyed_delete, upsert

IMPORT_BATCH = 5_000
"""Commits inserted per statement; divides ``SNAPSHOT_EVERY`` so batches end on its multiples."""

_ADVANCE_APPLY_IDS = "SELECT setval(pg_get_serial_sequence('applies', 'id'), max(id)) FROM applies"
"""PostgreSQL: explicit ids do not move the id sequence; the next apply must follow them."""

_APPLY_FIELDS = (
    "id",
    "principal",
    "message",
    "status",
    "started_at",
    "ended_at",
    "succeeded",
    "failed",
    "skipped",
    "failures",
    "host",
    "pid",
)


def require_empty(conn: Connection) -> None:
    """Refuse (``StateError``) a store that has any commit, apply, resource, staged change
    or checkpoint: an import must not mix two histories."""
    for table, what in (
        (commits, "commits"),
        (applies, "applies"),
        (resources, "resources"),
        (staged, "staged changes"),
        (checkpoints, "checkpoints"),
    ):
        if conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
            raise StateError(
                f"cannot import: the store already has {what}; import into an empty store"
            )


def import_log(conn: Connection, lines: Iterable[bytes], *, source: str) -> TransferReport:
    """Load export ``lines`` into the store of ``conn``, which must be empty (else
    :class:`StateError`), checking every line and hash (:class:`CorruptLogError` naming
    ``source``, line and rev); all or nothing (the caller's write transaction)."""
    return import_lines(conn, lines, source=source)


def import_lines(conn: Connection, lines: Iterable[bytes], *, source: str) -> TransferReport:
    """Check and load the export ``lines`` into the empty store ``conn`` writes to."""
    require_empty(conn)
    loader = _Loader(conn, source)
    for number, raw in enumerate(lines, 1):
        if raw.strip():
            loader.feed(number, *export_lines.parse(raw, number, source))
    return loader.finish()


class _Loader:
    """The state of one import: where the chain stands, what is pending, what was seen."""

    def __init__(self, conn: Connection, source: str) -> None:
        self.conn = conn
        self.source = source
        self.line = 0
        self.rev = 0
        self.hash = GENESIS_HASH
        self.segments = 0
        self.segment_end = (0, GENESIS_HASH)
        self.state: dict[str, ResourceState] = {}
        self.dirty: set[str] = set()
        self.pending: list[Commit] = []
        self.flushed_rev = 0
        self.applies: dict[int, dict[str, Any]] = {}
        self.types: dict[tuple[str, int], dict[str, Any]] = {}
        self.checkpoints: dict[str, dict[str, Any]] = {}
        self.needs: dict[tuple[str, Any], int] = {}

    def feed(self, number: int, kind: str, fields: dict[str, Any]) -> None:
        self.line = number
        if kind != "segment" and not self.segments:
            raise self._corrupt("the file does not start with a segment line")
        handlers = {
            "segment": self._segment,
            "checkpoint": self._checkpoint,
            "type": self._type,
            "apply": self._apply,
            "commit": self._commit,
        }
        try:
            handlers[kind](fields)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise self._corrupt(f"malformed {kind} record ({error!r})") from error

    def finish(self) -> TransferReport:
        if not self.segments:
            raise CorruptLogError(f"{self.source}: empty file, not a retrograde export")
        self.line += 1
        self._end_segment()
        self._flush()
        self._sync_state()
        self._check_references()
        self._insert_records()
        return TransferReport(
            commits=self.rev,
            first_rev=1 if self.rev else None,
            last_rev=self.rev or None,
            last_hash=self.hash,
            applies=len(self.applies),
            types=len(self.types),
            checkpoints=len(self.checkpoints),
            resources=len(self.state),
            extra={"segments": self.segments},
        )

    # one method per line kind

    def _segment(self, fields: dict[str, Any]) -> None:
        self._end_segment()
        after, previous = int(fields["after_rev"]), str(fields["previous_hash"])
        self.segment_end = (int(fields["last_rev"]), str(fields["last_hash"]))
        if not self.segments and after != 0:
            raise self._corrupt(
                f"the export starts after rev {after} (made with --since); "
                "import needs the whole log from rev 1"
            )
        if (after, previous) != (self.rev, self.hash):
            raise self._corrupt(
                f"segment continues rev {after}, but the file so far ends at rev {self.rev}"
            )
        self.segments += 1

    def _checkpoint(self, fields: dict[str, Any]) -> None:
        row = {key: fields[key] for key in ("name", "rev", "description", "principal")}
        row["timestamp"] = fields["timestamp"]
        known = self.checkpoints.setdefault(row["name"], row)
        if known != row:
            raise self._corrupt(f"checkpoint {row['name']!r} differs from an earlier segment")

    def _type(self, fields: dict[str, Any]) -> None:
        definition = fields["definition"]
        parsed = ResourceType.from_json(definition)
        key = (parsed.name, parsed.version)
        self.types[key] = {"name": key[0], "version": key[1], "definition": rows.dump(definition)}

    def _apply(self, fields: dict[str, Any]) -> None:
        """Keep the apply's latest record; one still unfinished in the file ends as failed.

        An apply exported while running (or interrupted) cannot be resumed
        here, where its journal does not exist; a later segment that saw it
        finish replaces this record.
        """
        row = {key: fields[key] for key in _APPLY_FIELDS}
        if ApplyStatus(row["status"]) in (ApplyStatus.RUNNING, ApplyStatus.INTERRUPTED):
            row["status"] = ApplyStatus.FAILED.value
        row["failures"] = rows.dump(row["failures"])
        self.applies[int(row["id"])] = row

    def _commit(self, fields: dict[str, Any]) -> None:
        commit = Commit.from_json(fields)
        if commit.rev != self.rev + 1:
            raise self._corrupt(f"expected rev {self.rev + 1}, found rev {commit.rev}")
        self._check(commit)
        try:
            replay_commit(self.state, commit)
        except CorruptLogError as error:
            raise self._corrupt(error.message, commit.rev) from error
        self.rev, self.hash = commit.rev, commit.hash
        self.dirty.add(commit.resource)
        self.pending.append(commit)
        self.needs.setdefault(("type", (commit.type, commit.version)), commit.rev)
        if commit.apply_id is not None:
            self.needs.setdefault(("apply", commit.apply_id), commit.rev)
        if len(self.pending) >= IMPORT_BATCH:
            self._flush()

    # checks

    def _check(self, commit: Commit) -> None:
        """The line's hash must follow from its content and the previous hash, and its
        ``reverse`` must be the reverse of its ``diff`` (the store keeps only the diff)."""
        expected = commit_hash(commit.body(), self.hash)
        if expected != commit.hash:
            raise self._corrupt(
                f"hash mismatch: the line says {commit.hash[:12]}…, "
                f"its content and the previous hash give {expected[:12]}…",
                commit.rev,
            )
        if not same_json(commit.reverse, reverse_diff(commit.diff)):
            raise self._corrupt("reverse is not the reverse of diff", commit.rev)

    def _end_segment(self) -> None:
        """The segment that ends here must hold every commit its first line promised."""
        if self.segments and self.segment_end != (self.rev, self.hash):
            raise self._corrupt(
                f"the segment before this point promised commits up to rev "
                f"{self.segment_end[0]} but ends at rev {self.rev}"
            )

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
            if not 0 <= int(row["rev"]) <= self.rev:
                raise CorruptLogError(
                    f"{self.source}: checkpoint {name!r} names rev {row['rev']}, "
                    f"beyond the last rev {self.rev}"
                )

    def _corrupt(self, problem: str, rev: int | None = None) -> CorruptLogError:
        where = f"{self.source}:{self.line}" + (f" (rev {rev})" if rev is not None else "")
        return CorruptLogError(f"{where}: {problem}", rev=rev)

    # writing

    def _flush(self) -> None:
        """Insert the pending commits; at a snapshot boundary, bring state up and snapshot."""
        if not self.pending:
            return
        self.conn.execute(commits.insert(), [rows.commit_row(c) for c in self.pending])
        index_commits(self.conn, self.pending)
        last = self.pending[-1].rev
        self.pending = []
        if last // snapshots.SNAPSHOT_EVERY != self.flushed_rev // snapshots.SNAPSHOT_EVERY:
            self._sync_state()
            snapshots.snapshot_if_due(self.conn, self.flushed_rev, last)
        self.flushed_rev = last

    def _sync_state(self) -> None:
        """Make the ``resources`` table hold the replayed state of the resources touched."""
        gone = [{"k_name": n} for n in self.dirty if n not in self.state]
        kept = [rows.state_row(n, self.state[n]) for n in sorted(self.dirty) if n in self.state]
        if gone:
            self.conn.execute(keyed_delete(resources, "name"), gone)
        if kept:
            dialect = self.conn.dialect.name
            self.conn.execute(upsert(dialect, resources, ("name",)), kept)
        self.dirty = set()

    def _insert_records(self) -> None:
        dialect = self.conn.dialect.name
        if self.types:
            self.conn.execute(upsert(dialect, types, ("name", "version")), [*self.types.values()])
        if self.applies:
            self.conn.execute(applies.insert(), [*self.applies.values()])
            if dialect == "postgresql":
                self.conn.execute(text(_ADVANCE_APPLY_IDS))
        if self.checkpoints:
            self.conn.execute(checkpoints.insert(), [*self.checkpoints.values()])
