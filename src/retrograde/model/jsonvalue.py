"""JSON values, their one canonical byte form (used for hashing) and JSON equality.

:data:`JSON` is the recursive type of a value retrograde holds. :data:`Raw` is
data decoded from outside (a stack file, a stored row, an export line, a
handler's output) before its shape is checked: a JSON boundary. Only the code
that checks a shape takes ``Raw``; what it returns is typed.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeAlias

import orjson

JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
"""A value made of dict, list, str, int, float, bool and None."""

JSONObject: TypeAlias = dict[str, JSON]
"""A JSON object."""

Raw: TypeAlias = Any
"""Decoded data whose shape is not checked yet (a JSON boundary, see the module docstring)."""

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
"""A JSON string token, escapes included (orjson never writes a raw ``"`` inside one)."""


def canonical(value: object) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_bytes(value: object) -> bytes:
    """``canonical(value).encode("utf-8")``, byte for byte, several times faster.

    orjson with sorted keys writes exactly the canonical form (same key order:
    both sort by code point; same string escapes; UTF-8 kept) for every value
    without floats and integers beyond 64 bits. Floats are the exception (orjson
    writes ``1e-05`` as ``0.00001`` and NaN as ``null``), so a value whose
    orjson form shows a float, or holds a ``null`` that might stand for a NaN,
    or that orjson refuses (huge integers, surrogates, non-string keys), takes
    the standard encoder. Either way the bytes are those of :func:`canonical`.
    """
    try:
        fast = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return canonical(value).encode("utf-8")
    bare = _outside_strings(fast)
    words = bare.replace(b"true", b"").replace(b"false", b"")
    if b"." in words or b"e" in words or b"E" in words or (b"null" in words and _has_float(value)):
        return canonical(value).encode("utf-8")
    return fast


def same_json(a: object, b: object) -> bool:
    """JSON equality: unlike ``==``, ``1``, ``1.0`` and ``true`` are three different values.

    Two values are the same when their canonical forms are; the one equality
    of JSON values everywhere (planning, storage, import, verify).
    """
    kind = type(a)
    if kind is not type(b):
        return False
    if kind in (str, int, bool) or a is None:
        return bool(a == b)
    try:
        left = orjson.dumps(a, option=orjson.OPT_SORT_KEYS)
        right = orjson.dumps(b, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return canonical(a) == canonical(b)
    if left != right:
        return False  # orjson's sorted form is exact but for NaN and infinities (null)
    return (
        b"null" not in left or not (_has_float(a) or _has_float(b)) or canonical(a) == canonical(b)
    )


def _outside_strings(encoded: bytes) -> bytes:
    """``encoded`` (orjson's output) without its string tokens.

    Without a backslash no string holds a ``"``, so the quotes split the text
    into what lies outside strings (even pieces) and inside (odd pieces).
    """
    if b"\\" in encoded:
        return _STRINGS.sub(b"", encoded)
    return b"".join(encoded.split(b'"')[::2])


def _has_float(value: object) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_float(item) for item in value)
    return False
