"""Export and import: the commit log as JSON Lines, optionally zstd-compressed.

``export`` writes one segment (see ``docs/history.md``): to standard output,
to a new file (written aside and renamed into place, so a failed export leaves
no half file), or with ``append`` at the end of an existing file, holding
only the commits the file does not have yet, as a new zstd frame for ``.zst``
(the bytes already there are left as they are). Before appending, the file's
last commit must have the same hash in this store, so a file only ever grows
with its own history. ``import`` loads a whole export into an empty store,
under the store lock. Exports keep secret inputs in clear: they are sensitive.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from retrograde.clock import utc_now
from retrograde.commands.context import Context
from retrograde.commands.locking import exclusive
from retrograde.errors import FileAccessError, NotFoundError, StateError
from retrograde.model.numbers import check_number
from retrograde.model.reports import TransferReport
from retrograde.storage import export_file
from retrograde.storage.sql.export import export_log
from retrograde.storage.sql.importing import import_log
from retrograde.storage.sql.transaction import sql_connection

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
    """Build this (empty) store from the export at ``path``; every hash is checked."""
    source = ctx.cwd / path
    if not source.is_file():
        raise NotFoundError("export file", str(path))
    with exclusive(ctx, "import"), ctx.store.write() as tx:
        return import_log(sql_connection(tx), export_file.read_lines(source), source=str(path))


def _export_new(ctx: Context, target: Path, since: int) -> TransferReport:
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with export_file.segment_writer(partial, compressed=_compressed(target)) as write:
            report = _write_segment(ctx, write, since)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return report


def _append(ctx: Context, target: Path) -> TransferReport:
    if not target.exists() or target.stat().st_size == 0:
        return _export_new(ctx, target, 0)
    rev, file_hash = export_file.last_exported(target, compressed=_compressed(target))
    with ctx.store.read() as tx:
        head, _ = tx.log.head()
        if rev > head:
            raise StateError(f"{target.name} ends at rev {rev}, past this store's last rev {head}")
        ours = tx.log.get(rev).hash if rev else file_hash
    if ours != file_hash:
        raise StateError(
            f"{target.name} does not continue this store's history: its rev {rev} has hash "
            f"{file_hash[:12]}…, this store's {ours[:12]}…"
        )
    if rev == head:
        return TransferReport(commits=0, first_rev=None, last_rev=None, last_hash=file_hash)
    with export_file.segment_writer(target, compressed=_compressed(target)) as write:
        return _write_segment(ctx, write, rev)


def _write_segment(ctx: Context, write: Write, after_rev: int) -> TransferReport:
    """One export segment of the commits after ``after_rev``, read in one consistent moment."""
    with ctx.store.read() as tx:
        return export_log(sql_connection(tx), write, after_rev=after_rev, exported_at=utc_now())


def _compressed(path: Path) -> bool:
    """Whether an export to ``path`` is zstd-compressed: its name ends in ``.zst``."""
    return path.suffix == export_file.ZSTD_SUFFIX
