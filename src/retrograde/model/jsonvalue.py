"""JSON values and their one canonical byte form (used for hashing and storage)."""

from __future__ import annotations

import json
from typing import Any

JSON = Any
"""A value made of dict, list, str, int, float, bool and None."""

JSONObject = dict[str, JSON]
"""A JSON object."""


def canonical(value: JSON) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
