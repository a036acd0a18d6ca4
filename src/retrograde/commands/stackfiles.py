"""Reading a stack file (and the files it includes) from disk."""

from __future__ import annotations

from pathlib import Path

from retrograde.errors import StackError
from retrograde.planning.stackfile import Stack, parse_stack


def read_stack(path: Path, *, source: str | None = None) -> Stack:
    """Parse the stack file at ``path``; its directory is where its handlers run.

    ``source`` is how errors name the file (default: ``path``).
    """
    name = source if source is not None else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackError(f"cannot read stack file: {exc.strerror}", location=name) from exc
    except UnicodeDecodeError as exc:
        raise StackError("stack file is not UTF-8 text", location=name) from exc
    base_dir = path.resolve().parent
    return parse_stack(
        text,
        source=name,
        base_dir=str(base_dir),
        read_file=lambda name: (base_dir / name).read_text(encoding="utf-8"),
    )
