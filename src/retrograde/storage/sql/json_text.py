"""Stored JSON text: how every JSON value of a row is written and read back.

Compact JSON text (no spaces, UTF-8 kept, key order kept), which both back
ends return byte for byte, so a value read back is equal to the value
written. Control characters (NUL included) are escaped by the encoder, so
PostgreSQL ``text`` accepts every value.
"""

from __future__ import annotations

import json

import orjson

from retrograde.model.jsonvalue import Raw

BIG_INTEGER_MARK = " "
"""Leads stored JSON that holds integers beyond 64 bits (still valid JSON: leading space)."""


def dump(value: object) -> str:
    """Compact JSON text of ``value``: orjson for speed, the standard encoder for huge ints.

    orjson cannot write integers beyond 64 bits and would read them back as
    floats, so such values are written by the standard encoder and marked with
    a leading space, which tells :func:`load` to read them exactly.
    """
    try:
        return orjson.dumps(value).decode("utf-8")
    except orjson.JSONEncodeError:
        return BIG_INTEGER_MARK + json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def load(text: str) -> Raw:
    """Parse JSON written by :func:`dump`, exactly (its shape is the caller's to trust)."""
    if text.startswith(BIG_INTEGER_MARK):
        return json.loads(text)
    return orjson.loads(text)


def load_exact(text: str) -> Raw:
    """Parse JSON from elsewhere (an export file), exactly whatever its numbers."""
    return json.loads(text)
