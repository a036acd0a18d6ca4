"""The export format: JSON Lines, one record per line, each naming its ``kind``.

An export is a sequence of *segments* (one per ``export`` or ``export
--append``; in a ``.zst`` file each segment is one zstd frame). A segment is:

1. a ``segment`` line: ``{"kind": "segment", "format": "retrograde-export",
   "version": 1, "after_rev": R, "previous_hash": H, "last_rev": L,
   "last_hash": LH, "exported_at": T}``: the commits that follow are
   ``R + 1`` to ``L``, chained onto hash ``H`` and ending with hash ``LH``;
2. ``checkpoint`` lines: every checkpoint of the store at export time;
3. for each commit, in revision order: first, if not yet in this segment, a
   ``type`` line with the type definition it names (``{"kind": "type",
   "definition": {...}}``) and an ``apply`` line with the record of its apply
   (the fields of ``applies --json`` plus ``host`` and ``pid``), then the
   ``commit`` line: every field of ``log --json`` (secrets in clear) plus
   ``"kind": "commit"``.

Keys of a commit line are ordered so that what repeats from one commit to the
next sits together (apply, principal, message, type...), which is what lets
zstd keep a commit in a few dozen bytes. Readers must not rely on key order.
Encoding is UTF-8 JSON without spaces; see ``docs/history.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from retrograde.errors import CorruptLogError
from retrograde.model.commit import Commit
from retrograde.storage.sql.rows import dump, load_exact

FORMAT = "retrograde-export"
FORMAT_VERSION = 1
KINDS = ("segment", "checkpoint", "type", "apply", "commit")

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


def line(kind: str, fields: Mapping[str, object]) -> bytes:
    """One line (newline included) of the given ``kind``."""
    return (dump({"kind": kind, **fields}) + "\n").encode("utf-8")


def segment_line(after: tuple[int, str], last: tuple[int, str], exported_at: str) -> bytes:
    """The first line of a segment holding the commits after ``after`` up to ``last``.

    Both are ``(rev, hash)``; naming the last commit up front lets ``export
    --append`` find where a file ends by reading one line.
    """
    return line(
        "segment",
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "after_rev": after[0],
            "previous_hash": after[1],
            "last_rev": last[0],
            "last_hash": last[1],
            "exported_at": exported_at,
        },
    )


def commit_line(commit: Commit) -> bytes:
    data: Mapping[str, object] = commit.to_json()
    return line("commit", {key: data[key] for key in _COMMIT_ORDER})


def parse(raw: bytes, number: int, source: str) -> tuple[str, dict[str, Any]]:
    """``(kind, fields)`` of line ``number`` of ``source``; a malformed line is corrupt."""
    try:
        data = load_exact(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise _corrupt(source, number, f"not JSON ({error})") from error
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise _corrupt(source, number, f"not a record of {', '.join(KINDS)}")
    kind = data.pop("kind")
    if kind == "segment" and (data.get("format"), data.get("version")) != (
        FORMAT,
        FORMAT_VERSION,
    ):
        raise _corrupt(source, number, f"not a {FORMAT} version {FORMAT_VERSION} segment")
    return str(kind), data


def _corrupt(source: str, number: int, problem: str) -> CorruptLogError:
    return CorruptLogError(f"{source}:{number}: {problem}")
