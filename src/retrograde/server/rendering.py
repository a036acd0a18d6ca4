"""JSON answers written by orjson: the same bytes ``--json`` would print, without indentation.

The standard library's encoder is slow on large answers (the state of
10,000 resources); values orjson refuses (integers beyond 64 bits) fall back
to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi.responses import Response

JSON_TYPE = "application/json"


def json_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")


def json_response(
    value: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(json_bytes(value), status_code=status, headers=headers, media_type=JSON_TYPE)
