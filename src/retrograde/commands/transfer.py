"""Export and import: the commit log as JSON Lines, optionally zstd-compressed.

``export`` writes one segment (see ``docs/history.md``): to standard output,
to a new file (written aside and renamed into place, so a failed export leaves
no half file), or with ``append`` at the end of an existing file, holding
only the commits the file does not have yet, as a new zstd frame for ``.zst``
(the bytes already there are left as they are). Before appending, the file's
last commit must have the same hash in this store, so a file only ever grows
with its own history. ``import`` loads a whole export into an empty store,
under the store lock. Secret values are exported sealed, as stored, with the
store's wrapped data key (a ``key`` line), so the store's key file opens them
after an import; an export from before secrets were sealed holds them in clear,
and importing it seals them (:func:`resealer`).

A file whose last segment is torn (an export killed while it wrote) keeps
its complete segments: ``append`` cuts the torn part off and writes from the
end of the last complete one, ``import`` loads the complete ones; both say so
in :attr:`TransferReport.extra` (``torn_bytes`` and a one-line ``warning``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive
from retrograde.errors import (
    CorruptLogError,
    FileAccessError,
    NotFoundError,
    StateError,
    one_line,
)
from retrograde.history import files
from retrograde.history.export import chain_point, export_log
from retrograde.history.importing import import_log
from retrograde.model.keys import ChainUpgrade
from retrograde.model.numbers import check_number
from retrograde.model.reports import TransferReport
from retrograde.storage.base import Transaction
from retrograde.storage.keys import box_in
from retrograde.storage.sql.reencoding import seal_clear_secrets, seal_clear_state

Write = Callable[[bytes], object]


def export(
    ctx: Context,
    path: Path | None = None,
    *,
    since: int | None = None,
    append: bool = False,
    stream: BinaryIO | None = None,
) -> TransferReport:
    """Export the commits after ``since`` (all when None) to ``path`` or ``stream``.

    With ``append``, ``path`` (created if missing) gets only the commits it
    does not have; ``since`` is then read from the file and may not be given.
    A file that cannot be written (a missing directory, no permission) is a
    :class:`FileAccessError` naming it; the store is only read.
    """
    if since is not None:
        check_number("revision", since, minimum=0)
    if path is None:
        if stream is None or append:
            raise StateError("export needs a file to append to" if append else "nowhere to export")
        return _write_segment(ctx, stream.write, since or 0)
    target = ctx.cwd / path
    if append and since is not None:
        raise StateError("export --append takes its starting revision from the file")
    try:
        return _append(ctx, target) if append else _export_new(ctx, target, since or 0)
    except OSError as error:
        raise FileAccessError("export file", str(path), error.strerror or str(error)) from error


def import_(ctx: Context, path: Path) -> TransferReport:
    """Build this (empty) store from the export at ``path``; every hash is checked.

    A torn last segment is left out (and reported); a file with no complete
    segment is :class:`CorruptLogError`. Committed state and snapshots, rebuilt by
    replay, are sealed where the commits hold a secret input's value in clear (one
    declared secret after it was committed).
    """
    source = ctx.cwd / path
    if not source.is_file():
        raise NotFoundError("export file", str(path))
    tail = _tail_or_none(source)
    if tail is not None and tail.torn and tail.end == 0:
        raise CorruptLogError(f"{path}: {_no_complete_segment(tail)}")
    end = tail.end if tail is not None and tail.torn else None
    with exclusive(ctx, "import"), ctx.store.write() as tx:
        lines = files.read_lines(source, end)
        report = import_log(tx, lines, source=str(path), reseal=resealer(tx, str(path)))
        seal_clear_state(tx, lambda: box_in(tx))  # of inputs the commits hold in clear
    if "chain_upgrade" in report.extra:
        ctx.store.scrub()  # the clear values were written before they were sealed
    return _with_torn(report, tail, f"{path.name}: left out", "not imported")


def resealer(tx: Transaction, source: str) -> Callable[[], ChainUpgrade | None]:
    """What seals the secrets that segments of the older format brought in clear (the
    importer calls it before chaining anything onto the commits it rehashes)."""
    reason = f"secret values of {one_line(source)} sealed on import"
    return lambda: seal_clear_secrets(tx, lambda: box_in(tx), reason=reason, at=utc_now())


def _export_new(ctx: Context, target: Path, since: int) -> TransferReport:
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with files.segment_writer(partial, compressed=_compressed(target)) as write:
            report = _write_segment(ctx, write, since)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return report


def _append(ctx: Context, target: Path) -> TransferReport:
    if not target.exists() or target.stat().st_size == 0:
        return _export_new(ctx, target, 0)
    tail = files.read_tail(target, compressed=_compressed(target))
    if tail.torn and tail.end == 0:
        raise CorruptLogError(f"{target.name}: {_no_complete_segment(tail)}; export it anew")
    rev, file_hash = tail.rev, tail.hash
    with ctx.store.read() as tx:
        head, _ = tx.log.head()
        if rev > head:
            raise StateError(f"{target.name} ends at rev {rev}, past this store's last rev {head}")
        upgraded = any((u.old_rev, u.old_hash) == (rev, file_hash) for u in tx.keys.upgrades())
        sealed_since = upgraded and (tx.log.get(rev).hash if rev else file_hash) != file_hash
    if sealed_since and not tail.torn:
        return _restate(ctx, target, (rev, file_hash))
    with ctx.store.read() as tx:
        try:
            at = chain_point(tx, list(tx.chain.entries()), rev, tail.seq)
        except NotFoundError:
            raise StateError(
                f"{target.name} ends at chain entry {tail.seq} after rev {rev}, "
                "which this store's chain does not have there"
            ) from None
        ours = at.hash if rev or tail.seq else file_hash
        chain_head = tx.chain.head()
    if ours != file_hash:
        raise StateError(
            f"{target.name} does not continue this store's history: its rev {rev} has hash "
            f"{file_hash[:12]}…, this store's {ours[:12]}…"
        )
    current = (at.rev, at.seq) == (chain_head.rev, chain_head.seq)
    if current and not tail.torn:
        return TransferReport(commits=0, first_rev=None, last_rev=None, last_hash=file_hash)
    start = tail.end if tail.torn else None
    if current:
        with open(target, "r+b") as raw:
            raw.truncate(tail.end)
        report = TransferReport(commits=0, first_rev=None, last_rev=None, last_hash=file_hash)
    else:
        compressed = _compressed(target)
        with files.segment_writer(target, compressed=compressed, start=start) as write:
            report = _write_segment(ctx, write, rev, at.seq)
    return _with_torn(report, tail, f"{target.name}: cut off", "appending after")


def _restate(ctx: Context, target: Path, end: tuple[int, str]) -> TransferReport:
    """Append a segment of the whole history, sealed, replacing the file's segments with
    secrets in clear, which end at ``end``: the store sealed them since, changing hashes
    (its chain upgrade names ``end``), so no later commit can continue the file's chain."""
    with files.segment_writer(target, compressed=_compressed(target)) as write:
        report = _write_segment(ctx, write, 0, restates=end)
    warning = (
        f"{target.name} ended with secrets in clear at rev {end[0]}; appended the whole "
        "history sealed, which replaces it on import"
    )
    return dataclasses.replace(report, extra={**report.extra, "warning": warning})


def _write_segment(
    ctx: Context,
    write: Write,
    after_rev: int,
    after_seq: int | None = None,
    restates: tuple[int, str] | None = None,
) -> TransferReport:
    """One export segment of the chain after ``after_rev`` (and entry ``after_seq``), read in
    one consistent moment."""
    with ctx.store.read() as tx:
        return export_log(
            tx,
            write,
            after_rev=after_rev,
            after_seq=after_seq,
            exported_at=utc_now(),
            restates=restates,
        )


def _tail_or_none(source: Path) -> files.Tail | None:
    """The tail of ``source``, or None when it is not an export (the import says why)."""
    try:
        return files.read_tail(source, compressed=files.is_zstd(source))
    except CorruptLogError:
        return None


def _no_complete_segment(tail: files.Tail) -> str:
    return (
        f"no complete segment: all {tail.size} bytes are an export that was interrupted "
        "while it wrote"
    )


def _with_torn(
    report: TransferReport, tail: files.Tail | None, said: str, then: str
) -> TransferReport:
    """``report`` with the torn tail, if any, named in its extra fields."""
    if tail is None or not tail.torn:
        return report
    warning = (
        f"{said} an incomplete last segment of {tail.torn} bytes (an interrupted export), "
        f"{then} the last complete one at rev {tail.rev}"
    )
    extra = {**report.extra, "torn_bytes": tail.torn, "warning": warning}
    return dataclasses.replace(report, extra=extra)


def _compressed(path: Path) -> bool:
    """Whether an export to ``path`` is zstd-compressed: its name ends in ``.zst``."""
    return path.suffix == files.ZSTD_SUFFIX
