"""YAML for stack files: a fast loader to plain data, and locations found on demand.

:func:`load_document` turns text into plain data (dict, list, str, int, float,
bool, None) by walking libyaml's parse events in one tight loop. PyYAML's own
constructor spends most of its time in per-node Python machinery and is
several times slower on a 100,000-resource file; the events carry everything a
stack file needs. Plain scalars are resolved as in YAML 1.1 except that dates
stay strings (a stack file holds JSON values). Anchors, aliases and merge keys
(``<<``) work; duplicate keys, unknown tags and a second document are errors.

The text may be hostile, so the loader bounds what it builds: values nest at
most :data:`MAX_DEPTH` levels (recursive checks and JSON encoders downstream
stay far from Python's recursion limit), aliases may not expand the document
past :func:`expansion_limit` nodes (an alias shares its anchor's value, but
every later walk visits it once per alias: a "billion laughs" file is refused
at the alias that crosses the limit), and integers stay within the signed
64-bit range (also beyond Python's 4,300-digit conversion limit, without
converting them).

The data carries no positions. :meth:`Document.at` finds the line and column
of a path (``("resources", "web", "inputs", "port")``) by composing the text
again, which only happens when an error is about to be raised.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from retrograde.errors import IntegerRangeError, StackLimitError, StackSyntaxError
from retrograde.model.jsonvalue import Raw

Path = tuple[Any, ...]
"""Keys and list indexes from the document root to one value."""

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "binary")
)
_NO_KEY: Any = object()
_MERGE_KEY: Any = object()

_INT = "tag:yaml.org,2002:int"
_PlainResolvers = dict[str, list[tuple[str, Any]]]

MAX_DEPTH = 128
"""How deeply collections may nest in one file (the top-level mapping is level 1)."""
EXPANSION_FLOOR = 1_000_000
EXPANSION_RATIO = 10
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def expansion_limit(written: int) -> int:
    """How many nodes a document of ``written`` nodes may hold once its aliases are expanded:
    ten times as many, and at least a million (plenty for sharing defaults among resources)."""
    return max(EXPANSION_FLOOR, EXPANSION_RATIO * written)


def _plain_resolvers() -> _PlainResolvers:
    """YAML 1.1 implicit types by first character, without timestamps (dates stay strings)."""
    dropped = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
    return {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in dropped]
        for first, resolvers in Resolver.yaml_implicit_resolvers.items()
    }


_RESOLVERS = _plain_resolvers()
_EventLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ComposeLoader(_EventLoader):  # type: ignore[misc]
    """Composes nodes whose tags resolve exactly as :func:`load_document`'s values do."""

    yaml_implicit_resolvers = _RESOLVERS


def location(source: str, mark: Raw) -> str:
    """``source:line:col`` (1-based) of a PyYAML mark."""
    return f"{source}:{mark.line + 1}:{mark.column + 1}"


class Document:
    """One stack or included file: its name, its text and its plain data."""

    __slots__ = ("_root", "data", "source", "text")

    def __init__(self, source: str, text: str, data: Raw) -> None:
        self.source = source
        self.text = text
        self.data = data
        self._root: Node | None = None

    def at(self, path: Path, *, key: bool = False) -> str:
        """Where the value at ``path`` (or, with ``key``, its key) starts: ``source:line:col``.

        Slow (composes the whole text once); call it only to raise an error.
        A path that leaves the text (a key that came from a merge) gives the
        nearest enclosing node.
        """
        if self._root is None:
            self._root = yaml.compose(self.text, Loader=_ComposeLoader)
        if self._root is None:
            return f"{self.source}:1:1"
        return location(self.source, _node_at(self._root, path, key).start_mark)


def _node_at(node: Node, path: Path, key: bool) -> Node:
    constructor = SafeConstructor()
    for depth, step in enumerate(path):
        if isinstance(node, MappingNode):
            pair = next((p for p in node.value if _key_of(constructor, p[0]) == step), None)
            if pair is None:
                return node
            if key and depth == len(path) - 1:
                return pair[0]  # type: ignore[no-any-return]
            node = pair[1]
        elif isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return node
    return node


def _key_of(constructor: SafeConstructor, node: Node) -> Raw:
    if isinstance(node, ScalarNode) and node.tag in _SCALAR_TAGS:
        return _scalar(constructor, node.tag, node.value)
    return _NO_KEY


def _scalar(constructor: SafeConstructor, tag: str, value: str) -> Raw:
    if tag == _STR:
        return value
    return constructor.yaml_constructors[tag](constructor, ScalarNode(tag, value))


def load_document(text: str, source: str) -> Document:
    """Parse one YAML document to plain data; syntax errors become StackSyntaxError."""
    try:
        loader = _EventLoader(text)
        try:
            data = _build(loader, source)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = location(source, mark) if mark is not None else f"{source}:1:1"
        raise StackSyntaxError(f"invalid YAML: {_problem(exc)}", location=where) from exc
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0]
        raise StackSyntaxError(
            f"invalid YAML: {problem}", location=_position(source, text, exc)
        ) from exc
    return Document(source, text, data)


def _problem(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem on one line, with its context (``while parsing ...``) after it."""
    problem = str(exc.problem or exc.context)
    mark = exc.context_mark
    if exc.problem and exc.context and mark is not None:
        problem += f" ({exc.context} at line {mark.line + 1}, column {mark.column + 1})"
    return problem


def _position(source: str, text: str, exc: yaml.YAMLError) -> str:
    """Where an unmarked YAML error (a bad character) happened, from its offset if known."""
    offset = getattr(exc, "position", None)
    if not isinstance(offset, int):
        return f"{source}:1:1"
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return f"{source}:{line}:{column}"


def _build(loader: Raw, source: str) -> Raw:
    """The one document's data, built from parse events with an explicit stack.

    This loop runs once per event (millions for a big stack), so the common
    cases are inline and rare ones call out. Each container is attached to its
    parent when it starts, so an anchor on it names the very object aliases
    will share. ``nodes`` counts the values written; ``extra`` what aliases
    add to them once expanded.
    """
    get_event = loader.get_event
    constructor = SafeConstructor()
    resolvers = _RESOLVERS
    plain: dict[str, Any] = {}  # plain scalar text -> its value, resolved once
    anchors: dict[str, Any] = {}
    merges: dict[int, list[tuple[Any, Any]]] = {}
    measured: dict[int, tuple[int, int]] = {}  # id of an aliased container -> nodes, height
    stack: list[tuple[Any, Any]] = []
    root: Any = None
    top: Any = None  # the open container; for a mapping, ``key`` waits for its value
    key: Any = _NO_KEY
    documents = 0
    nodes = extra = 0
    while True:
        event = get_event()
        kind = event.__class__
        if kind is ScalarEvent:
            value = event.value
            tag = event.tag
            if tag is None and event.implicit[0]:
                if value in plain:
                    value = plain[value]
                elif value[:1] in resolvers:
                    value = _plain(constructor, resolvers[value[:1]], value)
                    if value.__class__ is _Unreadable:
                        raise value.error(source, event, _here(stack, top, key))
                    plain[event.value] = value
                if value is _MERGE_KEY and (key is not _NO_KEY or top.__class__ is not dict):
                    value = "<<"  # ``<<`` merges only as a mapping key; elsewhere it is text
            elif tag is not None and tag != "!" and tag != _STR:
                value = _tagged(constructor, source, event, stack, top, key)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            _check_collection_tag(source, event, _MAP if kind is MappingStartEvent else _SEQ)
            value = {} if kind is MappingStartEvent else []
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            if merges and id(top) in merges:
                _merge(source, top, merges.pop(id(top)))
            if stack:
                top, key = stack.pop()
            continue
        elif kind is AliasEvent:
            value = _alias(source, anchors, stack, top, event)
            if value.__class__ is dict or value.__class__ is list:
                grown, height = _measure(value, measured)
                extra += grown - 1
                _check_alias(source, event, nodes, extra, len(stack) + height)
        elif kind is DocumentStartEvent:
            documents += 1
            _check_single(source, documents, event)
            continue
        elif kind is StreamEndEvent:
            return root
        else:
            continue
        nodes += 1
        if kind is not AliasEvent and event.anchor is not None:
            anchors[event.anchor] = value
        if top is None:
            root = value
        elif top.__class__ is list:
            top.append(value)
        elif key is _NO_KEY:
            if kind is ScalarEvent and value is not _MERGE_KEY and value not in top:
                key = value
            else:
                key = _odd_key(source, top, value, event)
            continue
        elif key is _MERGE_KEY:
            merges.setdefault(id(top), []).append((value, event.start_mark))
            key = _NO_KEY
        else:
            top[key] = value
            key = _NO_KEY
        if kind is MappingStartEvent or kind is SequenceStartEvent:
            stack.append((top, key))
            if len(stack) > MAX_DEPTH:
                raise _too_deep(source, event)
            top = value
            key = _NO_KEY


class _Unreadable:
    """A scalar its tag cannot turn into a value (or an integer beyond 64 bits), as a value
    the hot loop can test for; it becomes an error where the loop knows the location."""

    __slots__ = ("out_of_range", "tag", "text")

    def __init__(self, tag: str, text: str, *, out_of_range: bool) -> None:
        self.tag = tag
        self.text = text
        self.out_of_range = out_of_range

    def error(self, source: str, event: Raw, path: Path) -> StackSyntaxError | IntegerRangeError:
        where = location(source, event.start_mark)
        if not self.out_of_range:
            tag = self.tag.replace("tag:yaml.org,2002:", "!!")
            return StackSyntaxError(f"cannot read {_shorten(self.text)!r} as {tag}", location=where)
        resource = input_name = None
        if len(path) >= 4 and path[0] == "resources" and path[2] == "inputs":
            resource, input_name = str(path[1]), str(path[3])
        return IntegerRangeError(
            _shorten(self.text),
            path=_path_text(path),
            resource=resource,
            input=input_name,
            location=where,
        )


_DECIMAL = re.compile(r"[-+]?[1-9][0-9_]*")


def _convert(constructor: SafeConstructor, tag: str, text: str) -> Raw:
    """The value of scalar ``text`` under ``tag``, or :class:`_Unreadable`.

    A decimal integer too long for Python's int-string conversion limit is out
    of range by its length alone (it has thousands of digits).
    """
    try:
        value = _scalar(constructor, tag, text)
    except (ValueError, LookupError, TypeError, ArithmeticError, yaml.YAMLError):
        too_long = tag == _INT and _DECIMAL.fullmatch(text) is not None
        return _Unreadable(tag, text, out_of_range=too_long)
    if value.__class__ is int and not INT64_MIN <= value <= INT64_MAX:
        return _Unreadable(tag, text, out_of_range=True)
    return value


def _shorten(text: str) -> str:
    """Long scalar text cut to its start, with its length: an error line stays short."""
    if len(text) <= 40:
        return text
    return f"{text[:20]}... ({len(text)} characters)"


def _here(stack: list[tuple[Raw, Raw]], top: Raw, key: Raw) -> Path:
    """The path of the value the loop is reading (for an error): each open container's
    newest entry, then the pending key (or list position) in the innermost one."""
    chain = [container for container, _ in stack[1:]]
    if top is None:
        return ()
    chain.append(top)
    path: list[Any] = []
    for parent in chain[:-1]:
        if parent.__class__ is list:
            path.append(len(parent) - 1)
        elif parent:
            path.append(next(reversed(parent)))
    if top.__class__ is list:
        path.append(len(top))
    elif key is not _NO_KEY and key is not _MERGE_KEY:
        path.append(key)
    return tuple(path)


def _path_text(path: Path) -> str:
    """``resources.web.inputs.data[1].k``; the empty path is the document itself."""
    text = "".join(f"[{step}]" if step.__class__ is int else f".{step}" for step in path)
    return text.lstrip(".") or "the document"


def _measure(value: Raw, measured: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """Nodes and height of a closed container once its aliases are expanded.

    Iterative, and each shared container is measured once, so measuring costs
    one visit per distinct container however often aliases repeat it.
    """
    todo: list[tuple[Any, bool]] = [(value, False)]
    while todo:
        node, children_done = todo.pop()
        if id(node) in measured:
            continue
        children = node.values() if node.__class__ is dict else node
        if not children_done:
            todo.append((node, True))
            todo.extend((child, False) for child in children if _is_container(child))
            continue
        size, height = 1, 1
        for child in children:
            if _is_container(child):
                child_size, child_height = measured[id(child)]
                size += child_size
                height = max(height, child_height + 1)
            else:
                size += 1
        measured[id(node)] = (size, height)
    return measured[id(value)]


def _is_container(value: Raw) -> bool:
    return value.__class__ is dict or value.__class__ is list


def _check_alias(source: str, event: Raw, written: int, extra: int, depth: int) -> None:
    """Refuse an alias that expands the document too far or nests it too deep."""
    limit = expansion_limit(written)
    if written + extra > limit:
        raise StackLimitError(
            f"alias {event.anchor!r} expands the document past {limit:,} values"
            f" ({EXPANSION_RATIO} times the values written, at least {EXPANSION_FLOOR:,})",
            location=location(source, event.start_mark),
        )
    if depth > MAX_DEPTH:
        raise _too_deep(source, event)


def _too_deep(source: str, event: Raw) -> StackLimitError:
    return StackLimitError(
        f"values nest deeper than {MAX_DEPTH} levels", location=location(source, event.start_mark)
    )


def _plain(constructor: SafeConstructor, candidates: list[tuple[str, Raw]], value: str) -> Raw:
    for tag, regexp in candidates:
        if regexp.match(value):
            return _MERGE_KEY if tag == _MERGE else _convert(constructor, tag, value)
    return value


def _check_single(source: str, documents: int, event: Raw) -> None:
    if documents > 1:
        raise StackSyntaxError(
            "a stack file holds one YAML document; found a second one",
            location=location(source, event.start_mark),
        )


def _unsupported(source: str, event: Raw) -> StackSyntaxError:
    tag = str(event.tag).replace("tag:yaml.org,2002:", "!!")
    return StackSyntaxError(
        f"unsupported YAML tag {tag!r}", location=location(source, event.start_mark)
    )


def _tagged(
    constructor: SafeConstructor,
    source: str,
    event: Raw,
    stack: list[tuple[Raw, Raw]],
    top: Raw,
    key: Raw,
) -> Raw:
    if event.tag not in _SCALAR_TAGS:
        raise _unsupported(source, event)
    value = _convert(constructor, event.tag, event.value)
    if value.__class__ is _Unreadable:
        raise value.error(source, event, _here(stack, top, key))
    return value


def _check_collection_tag(source: str, event: Raw, plain_tag: str) -> None:
    if event.tag not in (None, "!", plain_tag):
        raise _unsupported(source, event)


def _alias(
    source: str, anchors: dict[str, Raw], stack: list[tuple[Raw, Raw]], top: Raw, event: Raw
) -> Raw:
    if event.anchor not in anchors:
        raise StackSyntaxError(
            f"undefined alias {event.anchor!r}", location=location(source, event.start_mark)
        )
    value = anchors[event.anchor]
    is_open = value is top or any(value is container for container, _ in stack)
    if is_open and value.__class__ in (dict, list):
        raise StackSyntaxError(
            f"alias {event.anchor!r} refers to a value that contains it",
            location=location(source, event.start_mark),
        )
    return value


def _odd_key(source: str, mapping: dict[Raw, Raw], value: Raw, event: Raw) -> Raw:
    """A mapping key that is not a new scalar: a merge, a duplicate or a collection."""
    if value is _MERGE_KEY:
        return value
    if value.__class__ is dict or value.__class__ is list:
        raise StackSyntaxError(
            "a mapping key must be a scalar", location=location(source, event.start_mark)
        )
    if value in mapping:
        raise StackSyntaxError(
            f"duplicate key {value!r}", location=location(source, event.start_mark)
        )
    return value


def _merge(source: str, mapping: dict[Raw, Raw], merged: list[tuple[Raw, Raw]]) -> None:
    """Apply ``<<`` merges: keys written in the mapping win, then earlier merged mappings."""
    for value, mark in merged:
        sources = value if value.__class__ is list else [value]
        for entry in sources:
            if entry.__class__ is not dict:
                raise StackSyntaxError(
                    "a merge key (<<) takes a mapping or a list of mappings",
                    location=location(source, mark),
                )
            for name, item in entry.items():
                mapping.setdefault(name, item)
