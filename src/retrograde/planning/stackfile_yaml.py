"""YAML for stack files: a fast loader to plain data, and locations found on demand.

:func:`load_document` turns text into plain data (dict, list, str, int, float,
bool, None) by walking libyaml's parse events in one tight loop. PyYAML's own
constructor spends most of its time in per-node Python machinery and is
several times slower on a 100,000-resource file; the events carry everything a
stack file needs. Plain scalars are resolved as in YAML 1.1 except that dates
stay strings (a stack file holds JSON values). Anchors, aliases and merge keys
(``<<``) work; duplicate keys, unknown tags and a second document are errors.

The data carries no positions. :meth:`Document.at` finds the line and column
of a path (``("resources", "web", "inputs", "port")``) by composing the text
again, which only happens when an error is about to be raised.
"""

from __future__ import annotations

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

from retrograde.errors import StackSyntaxError

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

_PlainResolvers = dict[str, list[tuple[str, Any]]]


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


def location(source: str, mark: Any) -> str:
    """``source:line:col`` (1-based) of a PyYAML mark."""
    return f"{source}:{mark.line + 1}:{mark.column + 1}"


class Document:
    """One stack or included file: its name, its text and its plain data."""

    __slots__ = ("_root", "data", "source", "text")

    def __init__(self, source: str, text: str, data: Any) -> None:
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


def _key_of(constructor: SafeConstructor, node: Node) -> Any:
    if isinstance(node, ScalarNode) and node.tag in _SCALAR_TAGS:
        return _scalar(constructor, node.tag, node.value)
    return _NO_KEY


def _scalar(constructor: SafeConstructor, tag: str, value: str) -> Any:
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


def _build(loader: Any, source: str) -> Any:
    """The one document's data, built from parse events with an explicit stack.

    This loop runs once per event (millions for a big stack), so the common
    cases are inline and rare ones call out. Each container is attached to its
    parent when it starts, so an anchor on it names the very object aliases
    will share.
    """
    get_event = loader.get_event
    constructor = SafeConstructor()
    resolvers = _RESOLVERS
    plain: dict[str, Any] = {}  # plain scalar text -> its value, resolved once
    anchors: dict[str, Any] = {}
    merges: dict[int, list[tuple[Any, Any]]] = {}
    stack: list[tuple[Any, Any]] = []
    root: Any = None
    top: Any = None  # the open container; for a mapping, ``key`` waits for its value
    key: Any = _NO_KEY
    documents = 0
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
                    value = plain[value] = _plain(constructor, resolvers[value[:1]], value)
                if value is _MERGE_KEY and (key is not _NO_KEY or top.__class__ is not dict):
                    value = "<<"  # ``<<`` merges only as a mapping key; elsewhere it is text
            elif tag is not None and tag != "!" and tag != _STR:
                value = _tagged(constructor, source, event)
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
        elif kind is DocumentStartEvent:
            documents += 1
            _check_single(source, documents, event)
            continue
        elif kind is StreamEndEvent:
            return root
        else:
            continue
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
            top = value
            key = _NO_KEY


def _plain(constructor: SafeConstructor, candidates: list[tuple[str, Any]], value: str) -> Any:
    for tag, regexp in candidates:
        if regexp.match(value):
            return _MERGE_KEY if tag == _MERGE else _scalar(constructor, tag, value)
    return value


def _check_single(source: str, documents: int, event: Any) -> None:
    if documents > 1:
        raise StackSyntaxError(
            "a stack file holds one YAML document; found a second one",
            location=location(source, event.start_mark),
        )


def _unsupported(source: str, event: Any) -> StackSyntaxError:
    tag = str(event.tag).replace("tag:yaml.org,2002:", "!!")
    return StackSyntaxError(
        f"unsupported YAML tag {tag!r}", location=location(source, event.start_mark)
    )


def _tagged(constructor: SafeConstructor, source: str, event: Any) -> Any:
    if event.tag not in _SCALAR_TAGS:
        raise _unsupported(source, event)
    return _scalar(constructor, event.tag, event.value)


def _check_collection_tag(source: str, event: Any, plain_tag: str) -> None:
    if event.tag not in (None, "!", plain_tag):
        raise _unsupported(source, event)


def _alias(
    source: str, anchors: dict[str, Any], stack: list[tuple[Any, Any]], top: Any, event: Any
) -> Any:
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


def _odd_key(source: str, mapping: dict[Any, Any], value: Any, event: Any) -> Any:
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


def _merge(source: str, mapping: dict[Any, Any], merged: list[tuple[Any, Any]]) -> None:
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
