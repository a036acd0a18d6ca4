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
from retrograde.model.chain import ChainEntry, ChainPoint
from retrograde.model.commit import GENESIS_HASH, CommitBody
from retrograde.model.reports import TransferReport
from retrograde.storage.base import Transaction

Write = Callable[[bytes], object]


def export_log(
    tx: Transaction,
    write: Write,
    *,
    after_rev: int,
    exported_at: str,
    after_seq: int | None = None,
    restates: tuple[int, str] | None = None,
) -> TransferReport:
    """Write one segment with the chain after commit ``after_rev`` (and entry ``after_seq``;
    None: just after the commit) up to the head, a batch at a time; ``after_rev`` outside
    ``0..head`` is :class:`NotFoundError`. ``restates`` (with ``after_rev`` 0) names the end
    of the older segments this one replaces."""
    head, head_hash = tx.log.head()
    if not 0 <= after_rev <= head:
        raise NotFoundError("revision", after_rev)
    all_entries = list(tx.chain.entries())
    after = chain_point(tx, all_entries, after_rev, after_seq)
    last = tx.chain.head()
    write(lines.segment_line(after, last, exported_at, restates))
    keys = tx.keys.load()
    if keys.wrapped_key is not None:
        write(lines.line("key", {"store_id": keys.store_id, "wrapped_key": keys.wrapped_key}))
    marks = [lines.line("checkpoint", mark.to_json()) for mark in tx.checkpoints.list()]
    write(b"".join(marks))
    write(b"".join(_signature_lines(tx, after, last)))
    entries = _EntryLines([e for e in all_entries if e.seq > after.seq])
    seen_applies: set[int] = set()
    seen_types: set[tuple[str, int]] = set()
    count = 0
    with gc_paused():
        for stored in tx.log.stored(after_rev, head):
            batch = [row.body() for row in stored]
            out = _type_lines(tx, batch, seen_types) + _apply_lines(tx, batch, seen_applies)
            if entries.before is not None and entries.before <= batch[-1][0]["rev"]:
                out.extend(entries.interleave(batch))
            else:
                out.extend(lines.body_line(body, hash_) for body, hash_ in batch)
            write(b"".join(out))
            count += len(batch)
        write(b"".join(entries.rest()))
    return TransferReport(
        commits=count,
        first_rev=after_rev + 1 if count else None,
        last_rev=head if count else None,
        last_hash=head_hash,
        extra={"entries": entries.count},
        applies=len(seen_applies),
        types=len(seen_types),
        checkpoints=len(marks),
    )


def chain_point(
    tx: Transaction, entries: list[ChainEntry], rev: int, seq: int | None
) -> ChainPoint:
    """The chain point after commit ``rev`` and entry ``seq`` (None: the last entry before
    commit ``rev``); a point the chain does not have is :class:`NotFoundError`."""
    if seq is None:
        seq = max((e.seq for e in entries if e.after_rev < rev), default=0)
    commit_hash = tx.log.get(rev).hash if rev else GENESIS_HASH
    if seq == 0:
        if any(e.after_rev < rev for e in entries):
            raise NotFoundError("chain point", f"rev {rev} entry {seq}")
        return ChainPoint(rev, 0, commit_hash)
    if not 0 < seq <= len(entries):
        raise NotFoundError("chain point", f"rev {rev} entry {seq}")
    entry = entries[seq - 1]
    following = entries[seq] if seq < len(entries) else None
    if entry.after_rev > rev or (following is not None and following.after_rev < rev):
        raise NotFoundError("chain point", f"rev {rev} entry {seq}")
    return ChainPoint(rev, seq, entry.hash if entry.after_rev == rev else commit_hash)


class _EntryLines:
    """Entry lines written in their place among the commit lines."""

    def __init__(self, entries: list[ChainEntry]) -> None:
        self._by_rev: dict[int, list[bytes]] = {}
        for entry in entries:
            self._by_rev.setdefault(entry.after_rev, []).append(lines.entry_line(entry))
        self.before = min(self._by_rev) + 1 if self._by_rev else None
        self.count = len(entries)

    def interleave(self, batch: list[tuple[CommitBody, str]]) -> list[bytes]:
        out: list[bytes] = []
        for body, hash_ in batch:
            out.extend(self._by_rev.pop(body["rev"] - 1, ()))
            out.append(lines.body_line(body, hash_))
        self.before = min(self._by_rev) + 1 if self._by_rev else None
        return out

    def rest(self) -> list[bytes]:
        out = [line for rev in sorted(self._by_rev) for line in self._by_rev[rev]]
        self._by_rev = {}
        self.before = None
        return out


def _signature_lines(tx: Transaction, after: ChainPoint, last: ChainPoint) -> list[bytes]:
    return [
        lines.line("signature", s.to_json())
        for s in tx.chain.signatures()
        if (after.rev, after.seq) < (s.point.rev, s.point.seq) <= (last.rev, last.seq)
    ]


def _type_lines(
    tx: Transaction, batch: list[tuple[CommitBody, str]], seen: set[tuple[str, int]]
) -> list[bytes]:
    wanted = {(body["type"], body["version"]) for body, _ in batch} - seen
    if not wanted:
        return []
    seen.update(wanted)
    found = tx.state.types(wanted)
    return [lines.line("type", {"definition": found[key].to_json()}) for key in sorted(found)]


def _apply_lines(
    tx: Transaction, batch: list[tuple[CommitBody, str]], seen: set[int]
) -> list[bytes]:
    wanted = {body["apply_id"] for body, _ in batch if body["apply_id"] is not None} - seen
    if not wanted:
        return []
    seen.update(wanted)
    return [lines.apply_line(record) for record in tx.applies.exported(wanted)]
