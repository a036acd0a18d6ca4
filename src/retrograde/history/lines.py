"""The export format: JSON Lines, one record per line, each naming its ``kind``.

An export is a sequence of *segments* (one per ``export`` or ``export
--append``; in a ``.zst`` file each segment is one zstd frame). A segment is:

1. a ``segment`` line: ``{"kind": "segment", "format": "retrograde-export",
   "version": 1, "after_rev": R, "previous_hash": H, "last_rev": L,
   "last_hash": LH, "exported_at": T, "secrets": "sealed"}``: the commits that follow are
   ``R + 1`` to ``L``, chained onto hash ``H`` and ending with hash ``LH``;
   ``secrets`` says their secret values are sealed (segments written before
   secrets were sealed at rest lack it and hold them in clear); a segment
   with ``"restates": {"rev": R, "hash": H}`` starts at rev 0 and replaces
   the segments before it, which end at rev ``R`` with hash ``H``: what
   ``export --append`` writes after segments with secrets in clear, once the
   store has sealed them (and rehashed its chain);
2. a ``key`` line when the store seals secrets: ``{"kind": "key", "store_id": S,
   "wrapped_key": W}``, the store's data key wrapped under its key file (never
   the key file itself), which an import adopts so that the same key file
   opens the imported secrets; a segment without one is of the format before
   secrets were sealed, whose secret values are in clear;
3. ``checkpoint`` lines: every checkpoint of the store at export time;
4. for each commit, in revision order: first, if not yet in this segment, a
   ``type`` line with the type definition it names (``{"kind": "type",
   "definition": {...}}``) and an ``apply`` line with the record of its apply
   (the fields of ``applies --json`` plus ``host`` and ``pid``), then the
   ``commit`` line: every field of ``log --json`` (secret values sealed) plus
   ``"kind": "commit"``.

Version 2 (chain entries) adds ``after_seq`` and ``last_seq`` to the segment
line (the segment holds the chain after point ``(after_rev, after_seq)`` up to
``(last_rev, last_seq)``; ``previous_hash``/``last_hash`` are the chain's
hashes there), ``signature`` lines after the checkpoints (the signatures of
the chain points in the segment), and an ``entry`` line for each chain entry
in its place: after the commit it follows (``{"kind": "entry", "seq",
"after_rev", "entry", "key", "data", "hash"}``). Version 1 segments are
still read; a file may hold both.

Keys of a commit line are ordered so that what repeats from one commit to the
next sits together (apply, principal, message, type...), which is what lets
zstd keep a commit in a few dozen bytes. Readers must not rely on key order.
Encoding is UTF-8 JSON without spaces; see ``docs/history.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import orjson

from retrograde.errors import CorruptLogError
from retrograde.model.chain import ChainEntry, ChainPoint
from retrograde.model.commit import Commit, CommitBody
from retrograde.model.jsonvalue import Raw

FORMAT = "retrograde-export"
FORMAT_VERSION = 2
"""Segments written now; version 1 segments (no chain entries) are read as well."""
READ_VERSIONS = (1, 2)
SEALED = "sealed"
"""A segment's ``secrets``: its secret values are sealed (a segment without it is of the
format before, with secret values in clear)."""
KINDS = ("segment", "key", "checkpoint", "type", "apply", "commit", "entry", "signature")

_COMMIT_ORDER = (
    "apply_id",
    "principal",
    "message",
    "type",
    "version",
    "action",
    "reverts",
    "timestamp",
    "rev",
    "resource",
    "connections",
    "tags",
    "diff",
    "reverse",
    "hash",
)
_BODY_ORDER = _COMMIT_ORDER[:-1]
_BODY_KEYS = list(_BODY_ORDER)

_DIGITS_AS_ZERO = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
"""A ``bytes.translate`` table: every digit becomes ``0``, every other byte a space."""

_LONG_NUMBER = b"0" * 19
"""19 digits in a row once translated: possibly an integer orjson would read as a float
(beyond 64 bits). Translating and searching is several times faster than a regular
expression over a line full of hex digits."""


def line(kind: str, fields: Mapping[str, object]) -> bytes:
    """One line (newline included) of the given ``kind``."""
    record = {"kind": kind, **fields}
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:  # integers beyond 64 bits
        return (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def segment_line(
    after: ChainPoint,
    last: ChainPoint,
    exported_at: str,
    restates: tuple[int, str] | None = None,
) -> bytes:
    """The first line of a segment holding the chain after point ``after`` up to ``last``.

    Naming the last element up front lets ``export --append`` find where a
    file ends by reading one line.
    """
    fields: dict[str, object] = {}
    if restates is not None:
        fields["restates"] = {"rev": restates[0], "hash": restates[1]}
    return line(
        "segment",
        {
            **fields,
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "after_rev": after.rev,
            "after_seq": after.seq,
            "previous_hash": after.hash,
            "last_rev": last.rev,
            "last_seq": last.seq,
            "last_hash": last.hash,
            "exported_at": exported_at,
            "secrets": SEALED,
        },
    )


APPLY_KIND = "apply_kind"
"""An apply line's field for the record's ``kind`` (``kind`` names the line's own kind)."""


def apply_line(record: Mapping[str, object]) -> bytes:
    """The line of an exported apply record, its ``kind`` written as ``apply_kind``."""
    fields = {key: value for key, value in record.items() if key != "kind"}
    fields[APPLY_KIND] = record.get("kind", "apply")
    return line("apply", fields)


def entry_line(entry: ChainEntry) -> bytes:
    return line("entry", entry.to_json())


def commit_line(commit: Commit) -> bytes:
    return body_line(commit.body(), commit.hash)


def body_line(body: CommitBody, hash_: str) -> bytes:
    """The line of the commit with ``body`` and ``hash_`` (a body already in line order, as
    :mod:`retrograde.storage.sql.commit_bodies` gives it, is written as it is)."""
    data: Mapping[str, object] = body
    if "from" not in data and list(data) == _BODY_KEYS:
        return line("commit", {**data, "hash": hash_})
    fields = {key: data[key] for key in _BODY_ORDER}
    fields["hash"] = hash_
    if "from" in data:
        fields["from"] = data["from"]
    return line("commit", fields)


def parse(raw: bytes, number: int, source: str) -> tuple[str, dict[str, Any]]:
    """``(kind, fields)`` of line ``number`` of ``source``; a malformed line is corrupt.

    Numbers are read exactly (integers of any size up to Python's digit
    limit); NaN, infinities and nesting deeper than the parser's limit make a
    line malformed, never an exception of another kind.
    """
    data = _decode(raw, number, source)
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise _corrupt(source, number, f"not a record of {', '.join(KINDS)}")
    kind = data.pop("kind")
    if kind == "segment" and (
        data.get("format") != FORMAT or data.get("version") not in READ_VERSIONS
    ):
        raise _corrupt(source, number, f"not a {FORMAT} version 1 or 2 segment")
    return str(kind), data


def _decode(raw: bytes, number: int, source: str) -> Raw:
    """orjson when it reads the line exactly, the standard parser when it might not."""
    if _LONG_NUMBER not in raw.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the standard parser says what is wrong, or reads what orjson refuses
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _corrupt(source, number, f"not JSON ({_short(error)})") from None


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _short(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error).splitlines()[0][:200]


def _corrupt(source: str, number: int, problem: str) -> CorruptLogError:
    return CorruptLogError(f"{source}:{number}: {problem}")
