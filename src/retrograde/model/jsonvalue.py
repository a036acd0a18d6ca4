"""JSON values and their one canonical byte form (used for hashing and storage).

:data:`JSON` is the recursive type of a value retrograde holds. :data:`Raw` is
data decoded from outside (a stack file, a stored row, an export line, a
handler's output) before its shape is checked: a JSON boundary. Only the code
that checks a shape takes ``Raw``; what it returns is typed.
"""

from __future__ import annotations

import json
from typing import Any, TypeAlias

JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
"""A value made of dict, list, str, int, float, bool and None."""

JSONObject: TypeAlias = dict[str, JSON]
"""A JSON object."""

Raw: TypeAlias = Any
"""Decoded data whose shape is not checked yet (a JSON boundary, see the module docstring)."""


def canonical(value: object) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
