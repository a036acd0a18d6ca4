"""JSON values, their one canonical byte form (used for hashing) and JSON equality.

:data:`JSON` is the recursive type of a value retrograde holds. :data:`Raw` is
data decoded from outside (a stack file, a stored row, an export line, a
handler's output) before its shape is checked: a JSON boundary. Only the code
that checks a shape takes ``Raw``; what it returns is typed.
"""

from __future__ import annotations

import json
from typing import Any, TypeAlias

import orjson

JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
"""A value made of dict, list, str, int, float, bool and None."""

JSONObject: TypeAlias = dict[str, JSON]
"""A JSON object."""

Raw: TypeAlias = Any
"""Decoded data whose shape is not checked yet (a JSON boundary, see the module docstring)."""


_FLOAT_MARKS = bytes.maketrans(b".,]}eE+-", b"\x01\x02\x02\x02\x03\x03\x04\x04")
"""A ``bytes.translate`` table for :func:`_shows_float`: ``.`` becomes 1, the ends of a
value 2, exponent letters 3, signs 4 (orjson escapes these control bytes in strings, so
none is there before)."""


def parse(text: bytes) -> Raw:
    """JSON text decoded exactly: by orjson unless an integer may exceed 64 bits (19 digits in
    a row; orjson would read it as a float) or orjson refuses the text; then by the standard
    parser."""
    if b"0" * 19 not in text.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


_DIGITS_AS_ZERO = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
"""A ``bytes.translate`` table: every digit becomes ``0``, every other byte a space."""


def compact_bytes(value: object) -> bytes:
    """Compact JSON of ``value`` (UTF-8 kept, key order kept); the standard encoder writes what
    orjson cannot (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical(value: object) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_bytes(value: object, *, finite: bool = False) -> bytes:
    """``canonical(value).encode("utf-8")``, byte for byte, several times faster.

    orjson with sorted keys writes exactly the canonical form (same key order:
    both sort by code point; same string escapes; UTF-8 kept) for every value
    without floats and integers beyond 64 bits. Floats are the exception (orjson
    writes ``1e-05`` as ``0.00001`` and NaN as ``null``), so a value whose
    orjson form shows a float, or holds a ``null`` that might stand for a NaN,
    or that orjson refuses (huge integers, surrogates, non-string keys), takes
    the standard encoder. Either way the bytes are those of :func:`canonical`.

    ``finite``: the caller knows ``value`` holds no NaN and no infinity (it was
    decoded from JSON, which has neither), so a ``null`` is always ``None``.
    """
    if isinstance(value, float):
        return canonical(value).encode("utf-8")
    try:
        fast = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return canonical(value).encode("utf-8")
    if _shows_float(fast) or (not finite and b"null" in fast and _has_float(value)):
        return canonical(value).encode("utf-8")
    return fast


def _shows_float(encoded: bytes) -> bool:
    """Whether orjson's output of a container may hold a float token.

    orjson writes a float as digits with a fraction (``1.5``, ``100.0``) or a
    signed exponent (``1e+20``, ``5e-324``), and inside a container a ``,``,
    ``]`` or ``}`` follows every value. With the digits deleted, a float leaves
    ``.`` or ``e+``/``e-`` just before one of those, which nothing else outside
    strings does; a string can (then the standard encoder decides, exactly).
    One translation and two byte searches instead of cutting every string out.
    """
    marked = encoded.translate(_FLOAT_MARKS, b"0123456789")
    return b"\x01\x02" in marked or b"\x03\x04\x02" in marked


def same_json(a: object, b: object) -> bool:
    """JSON equality: unlike ``==``, ``1``, ``1.0`` and ``true`` are three different values.

    Two values are the same when their canonical forms are; the one equality
    of JSON values everywhere (planning, storage, import, verify).
    """
    kind = type(a)
    if kind is not type(b):
        return False
    if a is b:
        return True
    if kind in (str, int, bool) or a is None:
        return bool(a == b)
    try:
        left, right = orjson.dumps(a), orjson.dumps(b)
        if left != right:  # perhaps only their keys' order differs
            left = orjson.dumps(a, option=orjson.OPT_SORT_KEYS)
            right = orjson.dumps(b, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return canonical(a) == canonical(b)
    if left != right:
        return False  # orjson's sorted form is exact but for NaN and infinities (null)
    # The same orjson form: a null may stand for None, NaN or an infinity on either side;
    # equal by ``==`` as well, none stands for another (None != NaN, inf != -inf).
    return b"null" not in left or bool(a == b) or canonical(a) == canonical(b)


def has_float(value: object) -> bool:
    """Whether ``value`` holds a float anywhere (a float itself included): what a caller
    that knows where floats can be checks there, to hash with ``finite`` when none is."""
    return _has_float(value)


def _has_float(value: object) -> bool:
    """Whether ``value`` holds a float anywhere (a float itself included).

    A walk over a work list rather than recursion: it runs on every hashed
    commit, and cycles cannot reach it (orjson refuses them first).
    """
    todo: list[object] = [value]
    for item in todo:
        kind = type(item)
        if kind is dict:
            todo.extend(item.values())  # type: ignore[attr-defined]
        elif kind is list or kind is tuple:
            todo.extend(item)  # type: ignore[arg-type]
        elif kind is float:
            return True
        elif kind is not str and kind is not int and kind is not bool and item is not None:
            if isinstance(item, float):
                return True
            if isinstance(item, dict):
                todo.extend(item.values())
            elif isinstance(item, list | tuple):
                todo.extend(item)
    return False
