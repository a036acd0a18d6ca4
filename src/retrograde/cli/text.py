"""Text output for people that is safe and cheap: every renderer writes through :class:`Lines`.

Safe: data (input values, resource names, principals, messages, handler
errors) is escaped here, in one place. Control characters print as ``\\x1b``,
``\\r``, ``\\n``..., so a value cannot retitle the terminal, clear the screen
or overwrite a line, and nothing is ever parsed as rich markup, so
``[bold]x[/bold]`` or ``[link=...]`` in data prints as written.

Cheap: lines are plain strings with an optional style per piece, aligned by
simple column widths and written to the console's file in one go (styles
become ANSI codes only when the console has colour). Rendering is linear in
the output and costs microseconds per line, unlike one rich table per row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.style import Style

if TYPE_CHECKING:
    from rich.console import Console  # the type only: rich.console is slow to import

Piece = str | tuple[str, str]
"""Some text, or ``(text, style)`` with a rich style name such as ``"bold red"``."""

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_CONTROL_KEEP_NEWLINE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` with control and bidirectional-override characters written as escapes.

    The result is one line: newlines print as ``\\n`` too. Text without such
    characters is returned as is (the common case costs one regex scan).
    """
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(_escaped, text)


def escape_lines(text: str) -> list[str]:
    """Multi-line ``text`` (e.g. a handler's stderr tail) as escaped lines; newlines kept."""
    if _CONTROL_KEEP_NEWLINE.search(text) is not None:
        text = _CONTROL_KEEP_NEWLINE.sub(_escaped, text)
    return text.split("\n")


def moment(stamp: str | None) -> str:
    """A log timestamp for people, to the second and with its zone: ``2026-11-25 15:35:56Z``.

    Stored times are UTC (``2026-11-25T15:35:56.123456Z``); the ``Z`` stays so
    nobody reads them as local time, and ``log --since``/``--until`` take the
    printed form back. ``None`` (not yet ended) is an em dash.
    """
    if not stamp:
        return "—"
    return stamp[:19].replace("T", " ") + "Z"


def count(n: int) -> str:
    """An integer for people: ``20,011``."""
    return f"{n:,}"


def revision_ranges(revs: Iterable[int]) -> str:
    """Revisions as ranges of consecutive numbers: ``12-20,011, 20,015``."""
    ordered = sorted(set(revs))
    spans: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        first, last = count(ordered[i]), count(ordered[j])
        spans.append(first if i == j else f"{first}-{last}")
        i = j + 1
    return ", ".join(spans)


NAMES_WIDTH = 80
"""Characters of a name list shown before the rest is summarised (``… and 1,790 more``)."""


def name_list(names: Sequence[str], width: int | None = NAMES_WIDTH) -> str:
    """``a, b, c … and 1,790 more``: names until ``width`` characters (``None``: all)."""
    if width is None:
        return ", ".join(names)
    shown: list[str] = []
    used = 0
    for name in names:
        if shown and used + len(name) > width:
            return f"{', '.join(shown)} … and {count(len(names) - len(shown))} more"
        shown.append(name)
        used += len(name) + 2
    return ", ".join(shown)


VALUE_WIDTH = 120
"""Characters of a value shown in a capped listing; never below 80."""


def clip(text: str, width: int | None = VALUE_WIDTH) -> str:
    """``text`` cut to ``width`` characters (``None``: never) with how much was left out."""
    if width is None or len(text) <= width:
        return text
    return f"{text[:width]}… ({count(len(text) - width)} more characters)"


class Lines:
    """Output being built: lines of pieces, escaped as they are added, printed at once."""

    def __init__(self) -> None:
        self._lines: list[list[tuple[str, str]]] = []

    def add(self, *pieces: Piece) -> None:
        """One line made of ``pieces`` (each escaped)."""
        self._lines.append([_piece(p) for p in pieces])

    def blank(self) -> None:
        self._lines.append([])

    def block(self, text: str, style: str = "", indent: str = "") -> None:
        """Multi-line ``text`` as lines of its own, escaped, trailing blank lines dropped."""
        for line in escape_lines(text.rstrip()):
            self._lines.append([(indent + line, style)])

    def table(
        self,
        rows: Iterable[Sequence[Piece]],
        *,
        header: Sequence[str] | None = None,
        indent: str = "",
        right: frozenset[int] = frozenset(),
    ) -> None:
        """Rows aligned in columns two spaces apart; ``right`` holds right-aligned columns.

        The last column is never padded, so a long value only lengthens its own line.
        """
        cells = [_trimmed([_piece(p) for p in row]) for row in rows]
        if header is not None:
            cells.insert(0, [(name, "bold") for name in header])
        if not cells:
            return
        widths = [0] * max(len(row) for row in cells)
        for row in cells:
            for i, (text, _) in enumerate(row[:-1]):
                widths[i] = max(widths[i], cell_len(text))
        for row in cells:
            line: list[tuple[str, str]] = [(indent, "")] if indent else []
            last = len(row) - 1
            for i, (text, style) in enumerate(row):
                pad = " " * (widths[i] - cell_len(text)) if i < last else ""
                line.append((pad + text if i in right else text + pad, style))
                if i < last:
                    line.append(("  ", ""))
            self._lines.append(line)

    def print(self, console: Console) -> None:
        """Write every line to ``console``'s file, with ANSI styles only if it has colour."""
        colour = None if console.no_color else _SYSTEMS.get(console.color_system or "")
        out = []
        for line in self._lines:
            out.append("".join(_styled(text, style, colour) for text, style in line))
        if out:
            console.file.write("\n".join(out) + "\n")
            console.file.flush()


_SYSTEMS = {
    "standard": ColorSystem.STANDARD,
    "256": ColorSystem.EIGHT_BIT,
    "truecolor": ColorSystem.TRUECOLOR,
    "windows": ColorSystem.STANDARD,
}
"""rich's names of a console's colour system (``Console.color_system``)."""


def _trimmed(row: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``row`` without its empty last cells, so no line ends in padding."""
    while len(row) > 1 and not row[-1][0]:
        row.pop()
    return row


def _piece(piece: Piece) -> tuple[str, str]:
    if isinstance(piece, str):
        return escape(piece), ""
    return escape(piece[0]), piece[1]


def _styled(text: str, style: str, colour: ColorSystem | None) -> str:
    if not style or colour is None or not text:
        return text
    before, after = _codes(style, colour)
    return f"{before}{text}{after}"


@lru_cache(maxsize=64)
def _codes(style: str, colour: ColorSystem) -> tuple[str, str]:
    """The ANSI codes that open and close ``style`` (rendered once per style)."""
    before, _, after = Style.parse(style).render("\0", color_system=colour).partition("\0")
    return before, after
