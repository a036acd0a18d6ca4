"""Export files on disk: plain JSON Lines, or zstd with one frame per segment.

Writing a segment appends it to the file (``.zst``: as a new zstd frame; the
bytes already there are never touched), then flushes it to disk; if writing
fails, the file is cut back to its old length. A process killed while it
writes (SIGKILL, a power cut) cannot cut anything back, so the file may end
in a *torn* segment: part of a zstd frame, or a plain segment without all the
commits its first line promised. :func:`read_tail` finds the end of the last
complete segment; ``export --append`` cuts the torn part off before it writes
and ``import`` reads up to there, so a torn tail costs only its own segment,
never a commit of an earlier one. ``zstd -d`` decompresses a multi-frame file
as one stream.

Finding the last frame walks the frame and block headers of RFC 8878 (the
``zstandard`` package decodes a frame header but cannot skip a frame), so it
costs a few reads per 128 KiB block and no decompression; only the last
frame's first line is decompressed. A plain file is read back from its end to
its last segment line.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import zstandard

from retrograde.errors import CorruptLogError
from retrograde.history import lines
from retrograde.model.commit import GENESIS_HASH
from retrograde.storage.private_files import private_opener

COMPRESSION_LEVEL = 3
"""zstd level for exports: about 75 bytes per commit at about 3 µs of CPU each; level 7
gives about 68 bytes at three times the CPU (bench/README.md)."""

COMPRESSION_THREADS = 2
"""zstd compresses in worker threads while the export builds the next lines."""

ZSTD_SUFFIX = ".zst"
"""A file name ending in this is written zstd-compressed (reading looks at the bytes)."""
_FRAME_MAGIC = 0xFD2FB528
_MAGIC_BYTES = _FRAME_MAGIC.to_bytes(4, "little")
_SKIPPABLE_MAGIC = 0x184D2A50
_SKIPPABLE_MASK = 0xFFFFFFF0
_MAX_FRAME_HEADER = 18
_LOOKBACK = 64 * 1024
_SEGMENT_STARTS = (b'{"kind":"segment"', b'{"kind": "segment"')


class _Torn(Exception):
    """The file ends inside a frame or a line (internal: becomes a torn tail)."""


@dataclass(frozen=True, slots=True)
class Tail:
    """Where an export file stands: its last complete commit and where complete data ends."""

    rev: int
    """The last revision of the last complete segment (0: none)."""
    hash: str
    """Its hash (the genesis hash for rev 0)."""
    end: int
    """The offset just past the last complete segment."""
    size: int
    """The file's size; more than ``end`` when the tail is torn."""
    seq: int | None = None
    """The last chain entry of the last complete segment (None: a version 1 segment,
    which ends just after commit ``rev``)."""

    @property
    def torn(self) -> int:
        """Bytes after the last complete segment (an interrupted export), 0 when none."""
        return self.size - self.end


@contextmanager
def segment_writer(path: Path, *, compressed: bool, start: int | None = None) -> Iterator[Any]:
    """A ``write(bytes)`` that appends one segment (``compressed``: one zstd frame) to ``path``.

    The file is created (``0600``: it holds the log) when missing. With
    ``start``, it is first cut to that length (a torn tail dropped). On any error the
    file is cut back to its
    length before the call; on success it is flushed to disk.
    """
    with open(path, "ab", opener=private_opener) as raw:
        if start is not None:
            raw.truncate(start)
        start = raw.seek(0, os.SEEK_END)
        try:
            if compressed:
                compressor = zstandard.ZstdCompressor(
                    level=COMPRESSION_LEVEL, write_checksum=True, threads=COMPRESSION_THREADS
                )
                with compressor.stream_writer(raw, closefd=False) as frame:
                    yield frame.write
            else:
                yield raw.write
            raw.flush()
            os.fsync(raw.fileno())
        except BaseException:
            raw.truncate(start)
            raise


def read_lines(path: Path, end: int | None = None) -> Iterator[bytes]:
    """Every line of the export at ``path`` (up to offset ``end``), across all zstd frames."""
    with open(path, "rb") as raw:
        stream: IO[bytes] = raw if end is None else io.BytesIO(raw.read(end))
        if stream.read(4) != _MAGIC_BYTES:
            stream.seek(0)
            yield from stream
            return
        stream.seek(0)
        reader = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
        try:
            yield from io.BufferedReader(reader)
        except zstandard.ZstdError as error:
            raise CorruptLogError(f"{path}: not a complete zstd file ({error})") from error


def is_zstd(path: Path) -> bool:
    """Whether the file at ``path`` starts like a zstd frame."""
    with open(path, "rb") as raw:
        return raw.read(4) == _MAGIC_BYTES


def read_tail(path: Path, *, compressed: bool) -> Tail:
    """The last complete segment of the export at ``path`` and where it ends.

    A file with no segment at all is :class:`CorruptLogError` (not an export);
    damage before the last segment is too. A torn tail is not an error: it is
    ``Tail.torn`` bytes past ``Tail.end``.
    """
    with open(path, "rb") as raw:
        size = raw.seek(0, os.SEEK_END)
        return _zstd_tail(raw, path, size) if compressed else _plain_tail(raw, path, size)


# zstd


def _zstd_tail(raw: IO[bytes], path: Path, size: int) -> Tail:
    start, end = _last_frame(raw, path, size)
    if start is None:
        return Tail(0, GENESIS_HASH, 0, size)
    raw.seek(start)
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=False)
    try:
        first = io.BufferedReader(reader).readline()
    except zstandard.ZstdError as error:
        raise CorruptLogError(f"{path}: the last zstd frame is damaged ({error})") from error
    kind, fields = lines.parse(first, 0, f"{path} (last frame)")
    if kind != "segment":
        raise CorruptLogError(f"{path}: the last frame does not start with a segment line")
    promised = _promise(fields)
    if promised is None:
        raise CorruptLogError(f"{path}: the last frame's segment line is malformed")
    return Tail(promised[0], promised[1], end, size, promised[2])


def _promise(fields: dict[str, Any]) -> tuple[int, str, int | None] | None:
    """``(last_rev, last_hash, last_seq)`` a segment line promises (``last_seq`` None for
    version 1), None when it is malformed."""
    rev, hash_, after = fields.get("last_rev"), fields.get("last_hash"), fields.get("after_rev")
    if type(rev) is not int or type(after) is not int or not isinstance(hash_, str):
        return None
    seq = fields.get("last_seq")
    if fields.get("version", 1) >= 2 and type(seq) is not int:
        return None
    return rev, hash_, seq if type(seq) is int else None


def _last_frame(raw: IO[bytes], path: Path, size: int) -> tuple[int | None, int]:
    """``(start, end)`` of the last complete zstd frame (skippable frames passed over);
    ``(None, 0)`` when no frame is complete."""
    offset, last, end = 0, None, 0
    while offset < size:
        try:
            raw.seek(offset)
            magic = int.from_bytes(_exactly(raw, 4), "little")
            if magic & _SKIPPABLE_MASK == _SKIPPABLE_MAGIC:
                following = offset + 8 + int.from_bytes(_exactly(raw, 4), "little")
            elif magic == _FRAME_MAGIC:
                following = _frame_end(raw, offset, path)
            else:
                raise CorruptLogError(f"{path}: not a zstd file (bad frame at byte {offset})")
        except _Torn:
            break
        if following > size:
            break
        if magic == _FRAME_MAGIC:
            last = offset
        offset = end = following
    if last is None and end == 0 and size and not _MAGIC_BYTES.startswith(_head(raw, 4)):
        raise CorruptLogError(f"{path}: not a zstd file (bad frame at byte 0)")
    return last, end


def _frame_end(raw: IO[bytes], start: int, path: Path) -> int:
    """Offset just past the frame at ``start``: header, blocks, optional checksum."""
    raw.seek(start)
    head = raw.read(_MAX_FRAME_HEADER)
    try:
        offset = start + zstandard.frame_header_size(head)
        checksum = 4 if zstandard.get_frame_parameters(head).has_checksum else 0
    except zstandard.ZstdError as error:
        if len(head) < _MAX_FRAME_HEADER:
            raise _Torn from error
        raise CorruptLogError(f"{path}: bad zstd frame header at byte {start}") from error
    while True:
        raw.seek(offset)
        header = int.from_bytes(_exactly(raw, 3), "little")
        last, kind, length = header & 1, (header >> 1) & 3, header >> 3
        if kind == 3:
            raise CorruptLogError(f"{path}: bad zstd block at byte {offset}")
        offset += 3 + (1 if kind == 1 else length)
        if last:
            return offset + checksum


def _exactly(raw: IO[bytes], count: int) -> bytes:
    data = raw.read(count)
    if len(data) != count:
        raise _Torn
    return data


def _head(raw: IO[bytes], count: int) -> bytes:
    raw.seek(0)
    return raw.read(count)


# plain


def _plain_tail(raw: IO[bytes], path: Path, size: int) -> Tail:
    """Walk back over segment lines until one whose segment is complete (see :func:`_complete`)."""
    end = size
    found_any = False
    for start in _segment_starts(raw, size):
        found_any = True
        whole = _whole_lines_end(raw, start, end)
        promised = _complete(raw, start, whole, path)
        if promised is not None:
            return Tail(promised[0], promised[1], whole, size, promised[2])
        end = start
    if not found_any:
        raise CorruptLogError(f"{path}: not a retrograde export (no segment line)")
    return Tail(0, GENESIS_HASH, 0, size)


def _segment_starts(raw: IO[bytes], size: int) -> Iterator[int]:
    """Offsets of the lines that start a segment, last first, found by reading backwards.

    A raw newline never occurs inside a JSON line, so a segment line is one
    that starts the file or follows a newline.
    """
    overlap = max(len(prefix) for prefix in _SEGMENT_STARTS)
    end = size
    while end > 0:
        start = max(0, end - _LOOKBACK)
        base = max(0, start - 1)
        raw.seek(base)
        window = raw.read(end + overlap - base)
        found: set[int] = set()
        for prefix in _SEGMENT_STARTS:
            at = window.find(prefix)
            while at != -1:
                offset = base + at
                if start <= offset < end and (offset == 0 or window[at - 1 : at] == b"\n"):
                    found.add(offset)
                at = window.find(prefix, at + 1)
        yield from sorted(found, reverse=True)
        end = start


def _complete(
    raw: IO[bytes], start: int, end: int, path: Path
) -> tuple[int, str, int | None] | None:
    """``(last_rev, last_hash, last_seq)`` when the segment in ``start..end`` is whole, else
    None.

    Whole: it ends with a newline, and its last line is the commit or chain
    entry its segment line promised last (or it promised none). Bytes after the last
    newline are the start of a line that was never finished.
    """
    raw.seek(start)
    first = raw.readline(end - start)
    last = _last_line(raw, start, end)
    if last is None:
        return None
    try:
        kind, fields = lines.parse(first, 0, f"{path} (segment)")
        promised = _promise(fields) if kind == "segment" else None
        if promised is None or (promised[0], promised[2]) == (
            fields["after_rev"],
            fields.get("after_seq"),
        ):
            return promised
        kind, fields = lines.parse(last, 0, f"{path} (end)")
    except CorruptLogError:
        return None
    if kind == "commit" and (fields.get("rev"), fields.get("hash")) == promised[:2]:
        return promised
    if kind == "entry" and (fields.get("seq"), fields.get("hash")) == (promised[2], promised[1]):
        return promised
    return None


def _whole_lines_end(raw: IO[bytes], start: int, end: int) -> int:
    """The offset just past the last newline in ``start..end`` (``start`` when none)."""
    stop = end
    while stop > start:
        begin = max(start, stop - _LOOKBACK)
        raw.seek(begin)
        cut = raw.read(stop - begin).rfind(b"\n")
        if cut != -1:
            return begin + cut + 1
        stop = begin
    return start


def _last_line(raw: IO[bytes], start: int, end: int) -> bytes | None:
    """The last line of ``start..end`` when it ends with a newline, else None."""
    raw.seek(end - 1)
    if end <= start or raw.read(1) != b"\n":
        return None
    tail = b""
    stop = end - 1
    while stop > start:
        begin = max(start, stop - _LOOKBACK)
        raw.seek(begin)
        tail = raw.read(stop - begin) + tail
        cut = tail.rfind(b"\n")
        if cut != -1:
            return tail[cut + 1 :]
        stop = begin
    return tail
