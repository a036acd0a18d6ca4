"""Export files on disk: plain JSON Lines, or zstd with one frame per segment.

Writing a segment appends it to the file (``.zst``: as a new zstd frame; the
bytes already there are never touched), then flushes it to disk; if writing
fails, the file is cut back to its old length, so it never ends in half a
segment. ``zstd -d`` decompresses a multi-frame file as one stream.

To append, the last exported revision is read from the last segment's first
line, which names the segment's last revision and hash. Finding the last
frame walks the frame and block headers of RFC 8878 (the ``zstandard``
package decodes a frame header but cannot skip a frame), so it costs a few
reads per 128 KiB block and no decompression; only the last frame's first
line is decompressed.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import zstandard

from retrograde.errors import CorruptLogError
from retrograde.storage import export_lines

COMPRESSION_LEVEL = 9
"""zstd level for exports: about 60 bytes per commit, about 150,000 commits a second."""

ZSTD_SUFFIX = ".zst"
"""A file name ending in this is written zstd-compressed (reading looks at the bytes)."""
_FRAME_MAGIC = 0xFD2FB528
_SKIPPABLE_MAGIC = 0x184D2A50
_SKIPPABLE_MASK = 0xFFFFFFF0
_MAX_FRAME_HEADER = 18
_LOOKBACK = 64 * 1024


@contextmanager
def segment_writer(path: Path, *, compressed: bool) -> Iterator[Any]:
    """A ``write(bytes)`` that appends one segment (``compressed``: one zstd frame) to ``path``.

    The file is created when missing. On any error the file is cut back to
    its length before the call; on success it is flushed to disk.
    """
    with open(path, "ab") as raw:
        start = raw.seek(0, os.SEEK_END)
        try:
            if compressed:
                compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL, write_checksum=True)
                with compressor.stream_writer(raw, closefd=False) as frame:
                    yield frame.write
            else:
                yield raw.write
            raw.flush()
            os.fsync(raw.fileno())
        except BaseException:
            raw.truncate(start)
            raise


def read_lines(path: Path) -> Iterator[bytes]:
    """Every line of the export at ``path``, across all frames of a zstd file."""
    with open(path, "rb") as raw:
        if raw.read(4) != zstandard.MAGIC_NUMBER.to_bytes(4, "little"):
            raw.seek(0)
            yield from raw
            return
        raw.seek(0)
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        try:
            yield from io.BufferedReader(reader)
        except zstandard.ZstdError as error:
            raise CorruptLogError(f"{path}: not a complete zstd file ({error})") from error


def last_exported(path: Path, *, compressed: bool) -> tuple[int, str]:
    """``(rev, hash)`` of the last commit exported to ``path`` (``rev`` 0 for none)."""
    if compressed:
        kind, fields = _first_line_of_last_frame(path)
    else:
        kind, fields = _last_position_line(path)
    if kind == "commit":
        return int(fields["rev"]), str(fields["hash"])
    return int(fields["last_rev"]), str(fields["last_hash"])


def _first_line_of_last_frame(path: Path) -> tuple[str, dict[str, Any]]:
    with open(path, "rb") as raw:
        start = _last_frame_start(raw, path)
        raw.seek(start)
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=False)
        try:
            first = io.BufferedReader(reader).readline()
        except zstandard.ZstdError as error:
            raise CorruptLogError(f"{path}: the last zstd frame is damaged ({error})") from error
    kind, fields = export_lines.parse(first, 0, f"{path} (last frame)")
    if kind != "segment":
        raise CorruptLogError(f"{path}: the last frame does not start with a segment line")
    return kind, fields


def _last_frame_start(raw: IO[bytes], path: Path) -> int:
    """Offset of the last zstd frame of the file (skippable frames passed over)."""
    size = raw.seek(0, os.SEEK_END)
    offset, last = 0, None
    while offset < size:
        raw.seek(offset)
        magic = int.from_bytes(_exactly(raw, 4, path), "little")
        if magic & _SKIPPABLE_MASK == _SKIPPABLE_MAGIC:
            offset += 8 + int.from_bytes(_exactly(raw, 4, path), "little")
        elif magic == _FRAME_MAGIC:
            last, offset = offset, _frame_end(raw, offset, path)
        else:
            raise CorruptLogError(f"{path}: not a zstd file (bad frame at byte {offset})")
    if last is None or offset != size:
        raise CorruptLogError(f"{path}: no complete zstd frame (an interrupted export?)")
    return last


def _frame_end(raw: IO[bytes], start: int, path: Path) -> int:
    """Offset just past the frame at ``start``: header, blocks, optional checksum."""
    raw.seek(start)
    head = raw.read(_MAX_FRAME_HEADER)
    try:
        offset = start + zstandard.frame_header_size(head)
        checksum = 4 if zstandard.get_frame_parameters(head).has_checksum else 0
    except zstandard.ZstdError as error:
        raise CorruptLogError(f"{path}: bad zstd frame header at byte {start}") from error
    while True:
        raw.seek(offset)
        header = int.from_bytes(_exactly(raw, 3, path), "little")
        last, kind, length = header & 1, (header >> 1) & 3, header >> 3
        if kind == 3:
            raise CorruptLogError(f"{path}: bad zstd block at byte {offset}")
        offset += 3 + (1 if kind == 1 else length)
        if last:
            return offset + checksum


def _exactly(raw: IO[bytes], count: int, path: Path) -> bytes:
    data = raw.read(count)
    if len(data) != count:
        raise CorruptLogError(f"{path}: ends inside a zstd frame (an interrupted export?)")
    return data


def _last_position_line(path: Path) -> tuple[str, dict[str, Any]]:
    """The last ``commit`` or ``segment`` line of a plain export, read from the end."""
    with open(path, "rb") as raw:
        end = raw.seek(0, os.SEEK_END)
        tail = b""
        while True:
            start = max(0, end - _LOOKBACK)
            raw.seek(start)
            tail = raw.read(end - start) + tail
            lines = tail.split(b"\n")
            for line in reversed(lines[1:] if start else lines):
                if line.strip():
                    kind, fields = export_lines.parse(line, 0, f"{path} (end)")
                    if kind in ("commit", "segment"):
                        return kind, fields
            if start == 0:
                raise CorruptLogError(f"{path}: not a retrograde export (no segment line)")
            tail, end = lines[0], start
