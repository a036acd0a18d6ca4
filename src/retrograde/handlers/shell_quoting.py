"""Quoting every value of a command template for where it stands in the shell text.

A ``shell`` template is Jinja2 over shell text, and a value pasted into shell
text is shell syntax: ``x; rm -rf ~`` would run. So at compile time the
template's literal text is scanned, in source order, as ``/bin/sh`` would
read it, and each ``{{ … }}`` is wrapped in the escaping that keeps its value
one piece of text where it stands:

- outside quotes (and inside ``$( … )`` or backquotes): one shell word, as
  :func:`shlex.quote` writes it;
- inside ``'…'``: each ``'`` of the value becomes ``'\\''``;
- inside ``"…"``: ``\\``, ``"``, ``$`` and backquote are backslash-escaped;
- in a here-document body: ``\\``, ``$`` and backquote are escaped (nothing
  for a quoted delimiter, whose body is not expanded), and a value holding a
  line equal to the delimiter is refused;
- in a comment: newlines become spaces (a newline would end the comment).

A value renders as Jinja2 renders it (``str()``, or whatever its filters make
of it, e.g. ``tojson``) and is then escaped. ``{{ expr | raw }}`` opts out and
pastes the text as shell syntax. The scanner follows quotes, backslashes,
``$( … )``, backquotes, comments and here-documents; it does not follow
``case`` patterns inside ``$( … )``, and a ``{% if %}`` branch is read in
source order like any other text.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeGuard

import jinja2
from jinja2 import nodes

RAW_FILTER = "raw"
QUOTE_FILTER = "retrograde_shell_quote"
VALUE_ROOTS = ("inputs", "previous")
"""The template variables that hold resource input values."""


class Place(StrEnum):
    """Where a ``{{ … }}`` stands in the shell text, which decides its escaping."""

    WORD = "word"
    BACKQUOTED = "backquoted"
    SINGLE = "single"
    DOUBLE = "double"
    HEREDOC = "heredoc"
    HEREDOC_LITERAL = "heredoc-literal"
    COMMENT = "comment"


_DOUBLE_SPECIAL = re.compile(r'([\\"$`])')
_HEREDOC_SPECIAL = re.compile(r"([\\$`])")
_BACKQUOTE_SPECIAL = re.compile(r"([\\`])")


def escape(value: object, place: str, delimiter: str = "", strip_tabs: bool = False) -> str:
    """``value`` as text that means exactly that text at ``place`` (the Jinja2 filter)."""
    text = str(value)
    match Place(place):
        case Place.WORD:
            return shlex.quote(text)
        case Place.BACKQUOTED:
            return _BACKQUOTE_SPECIAL.sub(r"\\\1", shlex.quote(text))
        case Place.SINGLE:
            return text.replace("'", "'\\''")
        case Place.DOUBLE:
            return _DOUBLE_SPECIAL.sub(r"\\\1", text)
        case Place.COMMENT:
            return text.replace("\n", " ")
        case Place.HEREDOC | Place.HEREDOC_LITERAL:
            _check_heredoc(text, delimiter, strip_tabs)
            return text if place == Place.HEREDOC_LITERAL else _HEREDOC_SPECIAL.sub(r"\\\1", text)


def _check_heredoc(text: str, delimiter: str, strip_tabs: bool) -> None:
    for line in text.split("\n"):
        if (line.lstrip("\t") if strip_tabs else line) == delimiter:
            raise jinja2.TemplateRuntimeError(
                f"a value holds the line {delimiter!r}, which would end the here-document"
            )


class _Frame(StrEnum):
    COMMAND = "command"
    SUBST = "subst"
    BACKQUOTE = "backquote"
    SINGLE = "single"
    DOUBLE = "double"
    COMMENT = "comment"
    HEREDOC = "heredoc"


@dataclass(slots=True)
class _Heredoc:
    delimiter: str
    expands: bool
    strip_tabs: bool


@dataclass(slots=True)
class ShellScanner:
    """Reads shell text piece by piece and knows what quoting the next character is in."""

    stack: list[_Frame] = field(default_factory=lambda: [_Frame.COMMAND])
    depth: list[int] = field(default_factory=list)
    """Open parentheses inside each ``$( … )`` on the stack."""
    heredocs: list[_Heredoc] = field(default_factory=list)
    """Here-documents whose bodies start at the next newline, then the one being read."""
    reading_heredoc: bool = False
    line: str = ""
    escaped: bool = False
    word_start: bool = True

    def feed(self, text: str) -> None:
        """Advance over literal template text."""
        i = 0
        while i < len(text):
            i = self._step(text, i)

    def place(self, lineno: int) -> tuple[Place, str, bool]:
        """Where a value pasted now stands: (place, here-document delimiter, strip tabs)."""
        if self.escaped and self.stack[-1] is not _Frame.SINGLE:
            raise jinja2.TemplateSyntaxError("a {{ … }} may not follow a backslash", lineno)
        self.word_start = False
        self.line += "\0"
        top = self.stack[-1]
        if top is _Frame.HEREDOC:
            doc = self.heredocs[0]
            kind = Place.HEREDOC if doc.expands else Place.HEREDOC_LITERAL
            return kind, doc.delimiter, doc.strip_tabs
        return _PLACES[top], "", False

    def _step(self, text: str, i: int) -> int:
        char = text[i]
        top = self.stack[-1]
        if self.escaped:
            self.escaped = False
            self.line += char
            return i + 1
        if top is _Frame.SINGLE:
            if char == "'":
                self.stack.pop()
            return i + 1
        if top is _Frame.COMMENT:
            if char == "\n":
                self.stack.pop()
                return self._newline(i)
            return i + 1
        if top is _Frame.HEREDOC:
            return self._heredoc_step(text, i)
        if top is _Frame.DOUBLE:
            return self._double_step(text, i)
        return self._command_step(text, i)

    def _double_step(self, text: str, i: int) -> int:
        char = text[i]
        if char == "\\":
            self.escaped = True
        elif char == '"':
            self.stack.pop()
        elif char == "`":
            self.stack.append(_Frame.BACKQUOTE)
        elif text.startswith("$(", i):
            self._open_subst()
            return i + 2
        return i + 1

    def _command_step(self, text: str, i: int) -> int:
        char = text[i]
        top = self.stack[-1]
        starts_word = self.word_start
        self.word_start = char in " \t\n;&|()<>"
        if char == "\\":
            self.escaped = True
        elif char == "'":
            self.stack.append(_Frame.SINGLE)
        elif char == '"':
            self.stack.append(_Frame.DOUBLE)
        elif char == "`":
            self.stack.pop() if top is _Frame.BACKQUOTE else self.stack.append(_Frame.BACKQUOTE)
        elif char == "#" and starts_word:
            self.stack.append(_Frame.COMMENT)
        elif text.startswith("$(", i):
            self._open_subst()
            return i + 2
        elif top is _Frame.SUBST and char in "()":
            self._paren(char)
        elif text.startswith("<<", i):
            return self._heredoc_operator(text, i + 2)
        elif char == "\n":
            return self._newline(i)
        return i + 1

    def _open_subst(self) -> None:
        self.stack.append(_Frame.SUBST)
        self.depth.append(0)
        self.word_start = True

    def _paren(self, char: str) -> None:
        if char == "(":
            self.depth[-1] += 1
        elif self.depth[-1]:
            self.depth[-1] -= 1
        else:
            self.depth.pop()
            self.stack.pop()

    def _heredoc_operator(self, text: str, i: int) -> int:
        """Read ``<<[-] WORD``: the body starts at the next newline."""
        strip_tabs = text.startswith("-", i)
        i += strip_tabs
        match = _DELIMITER.match(text, i)
        if match is None or not match.group(1):
            return i
        word = match.group(1)
        bare = word.replace("'", "").replace('"', "").replace("\\", "")
        self.heredocs.append(_Heredoc(bare, expands=bare == word, strip_tabs=strip_tabs))
        self.word_start = False
        return match.end()

    def _newline(self, i: int) -> int:
        self.word_start = True
        if self.heredocs and not self.reading_heredoc and self.stack[-1] in _COMMAND_FRAMES:
            self.reading_heredoc = True
            self.stack.append(_Frame.HEREDOC)
            self.line = ""
        return i + 1

    def _heredoc_step(self, text: str, i: int) -> int:
        char = text[i]
        doc = self.heredocs[0]
        if char == "\n":
            if (self.line.lstrip("\t") if doc.strip_tabs else self.line) == doc.delimiter:
                self._end_heredoc()
            self.line = ""
            return i + 1
        self.line += char
        if doc.expands and char == "\\":
            self.escaped = True
        elif doc.expands and char == "`":
            self.stack.append(_Frame.BACKQUOTE)
        elif doc.expands and text.startswith("$(", i):
            self._open_subst()
            self.line += "("
            return i + 2
        return i + 1

    def _end_heredoc(self) -> None:
        self.heredocs.pop(0)
        self.stack.pop()
        self.reading_heredoc = False
        if self.heredocs:
            self.reading_heredoc = True
            self.stack.append(_Frame.HEREDOC)


_COMMAND_FRAMES = (_Frame.COMMAND, _Frame.SUBST, _Frame.BACKQUOTE)
_DELIMITER = re.compile(r"[ \t]*((?:[^\s;&|()<>'\"\\]|'[^']*'|\"[^\"]*\"|\\.)*)")
_PLACES = {
    _Frame.COMMAND: Place.WORD,
    _Frame.SUBST: Place.WORD,
    _Frame.BACKQUOTE: Place.BACKQUOTED,
    _Frame.SINGLE: Place.SINGLE,
    _Frame.DOUBLE: Place.DOUBLE,
    _Frame.COMMENT: Place.COMMENT,
}


def quote_values(template: nodes.Template) -> nodes.Template:
    """Wrap every ``{{ … }}`` of ``template`` in the escaping of its place (in place).

    Raises ``jinja2.TemplateSyntaxError`` for a value no escaping can make safe
    (one right after a backslash).
    """
    scanner = ShellScanner()
    for output in _outputs(template):
        output.nodes = [_quoted(node, scanner) for node in output.nodes]
    return template


def _quoted(node: nodes.Expr, scanner: ShellScanner) -> nodes.Expr:
    if isinstance(node, nodes.TemplateData):
        scanner.feed(node.data)
        return node
    place, delimiter, strip_tabs = scanner.place(node.lineno)
    if isinstance(node, nodes.Filter) and node.name == RAW_FILTER:
        return node
    args: list[nodes.Expr] = [
        nodes.Const(place.value),
        nodes.Const(delimiter),
        nodes.Const(strip_tabs),
    ]
    return nodes.Filter(node, QUOTE_FILTER, args, [], None, None, lineno=node.lineno)


def _outputs(node: nodes.Node) -> Iterator[nodes.Output]:
    """The template's output nodes in source order (children before later siblings)."""
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.Output):
            yield child
        else:
            yield from _outputs(child)


def raw_values(template: nodes.Template) -> list[str]:
    """The input references (``inputs.ip``, ``previous``) that ``| raw`` pastes unquoted."""
    found: list[str] = []
    for raw in template.find_all(nodes.Filter):
        if raw.name == RAW_FILTER and raw.node is not None:
            found += [ref for ref in _references(raw.node) if ref not in found]
    return found


def _references(node: nodes.Node) -> Iterator[str]:
    if isinstance(node, nodes.Getattr | nodes.Getitem) and is_value_root(node.node):
        key = node.attr if isinstance(node, nodes.Getattr) else _const(node.arg)
        yield f"{node.node.name}.{key}"
    elif is_value_root(node):
        yield node.name
    else:
        for child in node.iter_child_nodes():
            yield from _references(child)


def is_value_root(node: nodes.Node) -> TypeGuard[nodes.Name]:
    """Whether ``node`` is the name ``inputs`` or ``previous`` (holding input values)."""
    return isinstance(node, nodes.Name) and node.name in VALUE_ROOTS


def _const(node: nodes.Expr) -> str:
    return str(node.value) if isinstance(node, nodes.Const) else "[…]"
