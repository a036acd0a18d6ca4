"""The JSON view of a domain error, as ``--json`` and the HTTP API show it.

``{"kind", "message", ...fields}``: ``kind`` is the error's class in snake case
(``not_found_error``), then every structured field the error carries
(``resource``, ``input``, ``rev``, ``location``...), values as JSON. A secret
value an :class:`~retrograde.errors.InputTypeError` names is ``***``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from retrograde.errors import InputTypeError, RetrogradeError

MASK = "***"

_RENAMED = {"kind": "what"}
"""Error fields whose name is taken in the JSON shape: ``NotFoundError.kind`` (``resource``,
``revision``...) is ``what``."""

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def domain_fields(exc: RetrogradeError) -> dict[str, Any]:
    """``kind``, ``message``, then the error's structured fields (see the module docstring)."""
    fields: dict[str, Any] = {"kind": snake_case(type(exc).__name__), "message": exc.message}
    for name, value in vars(exc).items():
        if not name.startswith("_") and name != "message":
            fields.setdefault(_RENAMED.get(name, name), jsonable(value))
    if isinstance(exc, InputTypeError) and exc.secret:
        fields["value"] = MASK
    return fields


def snake_case(name: str) -> str:
    """``StoreLockedError`` -> ``store_locked_error``."""
    return _CAMEL.sub("_", name).lower()


def jsonable(value: object) -> Any:
    """A field's value as JSON: tuples as lists, other objects as their text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    return str(value)
