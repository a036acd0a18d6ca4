"""Writing one export segment: commits after a revision, with what they reference.

Commits come from the log a batch at a time (never the whole log at once)
and are written to a ``write(bytes)`` sink in the format of
:mod:`retrograde.history.lines`: a segment line, every checkpoint, and each
commit preceded by its type definition and apply record the first time the
segment meets them. The segment ends at the head the transaction sees, so
commits written while the export runs are left for the next one.
"""

from __future__ import annotations

from collections.abc import Callable

from retrograde.errors import NotFoundError
from retrograde.history import lines
from retrograde.memory import gc_paused
from retrograde.model.commit import GENESIS_HASH, Commit
from retrograde.model.reports import TransferReport
from retrograde.storage.base import Transaction

Write = Callable[[bytes], object]


def export_log(
    tx: Transaction,
    write: Write,
    *,
    after_rev: int,
    exported_at: str,
    restates: tuple[int, str] | None = None,
) -> TransferReport:
    """Write one segment with the commits after ``after_rev`` up to the head, a batch at a
    time; ``after_rev`` outside ``0..head`` is :class:`NotFoundError`. ``restates`` (with
    ``after_rev`` 0) names the end of the older segments this one replaces."""
    head, head_hash = tx.log.head()
    if not 0 <= after_rev <= head:
        raise NotFoundError("revision", after_rev)
    after_hash = tx.log.get(after_rev).hash if after_rev else GENESIS_HASH
    write(lines.segment_line((after_rev, after_hash), (head, head_hash), exported_at, restates))
    keys = tx.keys.load()
    if keys.wrapped_key is not None:
        write(lines.line("key", {"store_id": keys.store_id, "wrapped_key": keys.wrapped_key}))
    marks = [lines.line("checkpoint", mark.to_json()) for mark in tx.checkpoints.list()]
    write(b"".join(marks))
    seen_applies: set[int] = set()
    seen_types: set[tuple[str, int]] = set()
    count = 0
    with gc_paused():
        for stored in tx.log.stored(after_rev, head):
            batch = [row.decode() for row in stored]
            out = _type_lines(tx, batch, seen_types) + _apply_lines(tx, batch, seen_applies)
            out.extend(map(lines.commit_line, batch))
            write(b"".join(out))
            count += len(batch)
    return TransferReport(
        commits=count,
        first_rev=after_rev + 1 if count else None,
        last_rev=head if count else None,
        last_hash=head_hash,
        applies=len(seen_applies),
        types=len(seen_types),
        checkpoints=len(marks),
    )


def _type_lines(tx: Transaction, batch: list[Commit], seen: set[tuple[str, int]]) -> list[bytes]:
    wanted = {(c.type, c.version) for c in batch} - seen
    if not wanted:
        return []
    seen.update(wanted)
    found = tx.state.types(wanted)
    return [lines.line("type", {"definition": found[key].to_json()}) for key in sorted(found)]


def _apply_lines(tx: Transaction, batch: list[Commit], seen: set[int]) -> list[bytes]:
    wanted = {c.apply_id for c in batch if c.apply_id is not None} - seen
    if not wanted:
        return []
    seen.update(wanted)
    return [lines.apply_line(record) for record in tx.applies.exported(wanted)]
