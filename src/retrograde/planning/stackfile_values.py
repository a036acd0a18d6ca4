"""Checks on a stack file's plain data: shapes, names, JSON literals and connections.

Every check takes the :class:`~retrograde.planning.stackfile_yaml.Document` and
the path of the value it looks at, so the error it raises points at the exact
line and column; finding that line and column is left until a check fails.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from retrograde.errors import StackSyntaxError
from retrograde.model.jsonvalue import JSON, Raw
from retrograde.model.secrets import MASK
from retrograde.model.state import ConnectionSlot
from retrograde.planning.stackfile_yaml import Document, Path

if TYPE_CHECKING:
    from retrograde.planning.stackfile_vars import Vars

RESOURCE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
INPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONNECTION = re.compile(r"\$\{([A-Za-z0-9_][A-Za-z0-9_.-]*\.[A-Za-z_][A-Za-z0-9_]*)\}")
_UNESCAPED = re.compile(r"(?<!\$)\$\{")
_VAR_REF = re.compile(r"(?<!\$)\$\{var\.")
WHOLE_VAR = re.compile(r"\$\{var\.([A-Za-z_][A-Za-z0-9_]*)\}")
"""A value that is exactly one var reference: it takes the var's value, of its type."""

_OnString = Callable[[Document, Path, str, bool], JSON]
"""What a copy does with each string: keep it, or unescape it (and reject ``${``)."""


_KIND_WORDS = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "list",
    dict: "mapping",
    type(None): "null",
}


def kind_of(value: Raw) -> str:
    """The stack-file word for a plain value's type (for messages)."""
    return _KIND_WORDS.get(type(value), type(value).__name__)


def mapping(doc: Document, path: Path, value: Raw, what: str) -> dict[Raw, Raw]:
    """``value`` as a mapping; an empty YAML value (null) is an empty mapping."""
    if value is None:
        return {}
    if value.__class__ is not dict:
        raise StackSyntaxError(
            f"{what} must be a mapping, got {kind_of(value)}", location=doc.at(path)
        )
    return value


def check_keys(
    doc: Document, path: Path, value: dict[Raw, Raw], allowed: AbstractSet[str], what: str
) -> None:
    """Reject the first key of ``value`` that is not in ``allowed``."""
    if value.keys() <= allowed:
        return
    unknown = next(k for k in value if k not in allowed)
    raise StackSyntaxError(
        f"unknown key {unknown!r} in {what}; expected one of: {', '.join(sorted(allowed))}",
        location=doc.at((*path, unknown), key=True),
    )


def check_name(doc: Document, path: Path, name: Raw, pattern: re.Pattern[str], what: str) -> str:
    """``name`` (the last key of ``path``) if it is a string matching ``pattern``."""
    if name.__class__ is not str or not pattern.fullmatch(name):
        raise StackSyntaxError(
            f"invalid {what} name {name!r}: names match {pattern.pattern}",
            location=doc.at(path, key=True),
        )
    return name


def _show(text: str, secret: bool) -> str:
    return MASK if secret else repr(text)


def plain_json(doc: Document, path: Path, value: Raw) -> JSON:
    """A copy of ``value`` that is certainly JSON (string keys, finite numbers)."""
    return _copy(doc, path, value, _keep_string, False)


def literal(
    doc: Document, path: Path, value: Raw, *, secret: bool = False, vars: Vars | None = None
) -> JSON:
    """A copy of an input value or default: ``$${`` unescaped, ``${var.NAME}`` replaced by
    ``vars`` (see :mod:`~retrograde.planning.stackfile_vars`), any other ``${`` rejected."""

    def on_string(doc: Document, path: Path, text: str, secret: bool) -> JSON:
        if "${" not in text or not _VAR_REF.search(text):
            return _unescape(doc, path, text, secret)
        if vars is None:
            raise StackSyntaxError(
                "${var.NAME} cannot be used here; vars go in resource inputs,"
                " input defaults and outputs",
                location=doc.at(path),
            )
        return vars.substitute(doc, path, text, into_secret=secret)

    return _copy(doc, path, value, on_string, secret)


def _keep_string(doc: Document, path: Path, text: str, secret: bool) -> str:
    return text


def _unescape(doc: Document, path: Path, text: str, secret: bool) -> str:
    if "${" not in text:
        return text
    if _CONNECTION.fullmatch(text):
        problem = (
            f"connection {_show(text, secret)} must be a whole input value"
            " or an element of a list input"
        )
    elif _UNESCAPED.search(text) is None:
        return text.replace("$${", "${")
    elif text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        problem = f"malformed connection {_show(text, secret)}: write ${{resource.input}}"
    else:
        problem = (
            f"interpolation inside strings is not supported: {_show(text, secret)};"
            ' a connection must be the whole value ("${resource.input}");'
            " write $${ for a literal ${"
        )
    raise StackSyntaxError(problem, location=doc.at(path))


def _copy(doc: Document, path: Path, value: Raw, on_string: _OnString, secret: bool) -> JSON:
    cls = value.__class__
    if cls is str:
        return on_string(doc, path, value, secret)
    if cls is int or cls is bool or value is None or (cls is float and math.isfinite(value)):
        scalar: JSON = value  # a checked scalar
        return scalar
    if cls is list:
        return [_copy(doc, (*path, i), item, on_string, secret) for i, item in enumerate(value)]
    if cls is dict:
        for name in value:
            if name.__class__ is not str:
                raise StackSyntaxError(
                    f"keys of a JSON object must be strings, got {kind_of(name)} {name!r}",
                    location=doc.at((*path, name), key=True),
                )
        return {k: _copy(doc, (*path, k), v, on_string, secret) for k, v in value.items()}
    shown_value = MASK if secret else repr(value)
    raise StackSyntaxError(
        f"not a JSON value: {kind_of(value)} {shown_value}", location=doc.at(path)
    )


def input_value(
    doc: Document, path: Path, value: Raw, *, secret: bool, vars: Vars | None = None
) -> tuple[JSON, ConnectionSlot | None]:
    """A resource's input as ``(value, connection slot)``.

    ``"${a.x}"`` gives ``(None, "a.x")``; a list with connections among its
    elements gives the list with ``None`` at each connected position and a slot
    with one entry per element; anything else is a literal with no slot.
    """
    cls = value.__class__
    if cls is str and value.startswith("${"):
        match = _CONNECTION.fullmatch(value)
        if match and not WHOLE_VAR.fullmatch(value):
            return None, match.group(1)
    elif cls is list:
        slot = [_element_ref(item) for item in value]
        if any(ref is not None for ref in slot):
            items = [
                None
                if ref is not None
                else literal(doc, (*path, i), item, secret=secret, vars=vars)
                for i, (item, ref) in enumerate(zip(value, slot, strict=True))
            ]
            return items, slot
    return literal(doc, path, value, secret=secret, vars=vars), None


def _element_ref(item: Raw) -> str | None:
    if item.__class__ is str and item.startswith("${"):
        match = _CONNECTION.fullmatch(item)
        if match and not WHOLE_VAR.fullmatch(item):
            return match.group(1)
    return None


def scalar_text(value: Raw) -> str | None:
    """A tag value as text (``true``, ``3``, ``""`` for null), or None if not a scalar."""
    if value.__class__ is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None
