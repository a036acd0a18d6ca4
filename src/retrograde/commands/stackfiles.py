"""Reading a stack file (and the files it includes) from disk, as untrusted input.

A stack file may come from anyone, so reading it is bounded:

* no file is read past the size limit (``RETROGRADE_MAX_STACK_BYTES``, 64 MiB
  by default): at most one byte more than the limit is ever read, so an
  endless device or a growing file is refused, not swallowed;
* includes are regular files inside the stack file's own directory tree or a
  directory allowed explicitly (``--allow-include DIR``,
  ``RETROGRADE_ALLOW_INCLUDE``), judged after resolving symlinks and ``..``.
  A refused include is never opened, so no error can show its content.

Values for the stack's ``vars:`` are gathered here too (the planning layer
reads no files and no environment): ``--var`` pairs, ``--var-file`` texts
(bounded like the stack file) and ``RETROGRADE_VAR_<name>``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from retrograde import config
from retrograde.errors import IncludeError, StackError, StackLimitError

if TYPE_CHECKING:  # the types only: the reader (YAML, the stack's grammar) loads on first read
    from retrograde.planning.stackfile import Stack, VarSources

_OPEN_INCLUDE = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
"""Opening an include never blocks (a FIFO) nor follows a symlink swapped in after the check."""


@dataclass(frozen=True, slots=True)
class StackVars:
    """Values for a stack's ``vars:`` as given on the command line.

    ``values``: each ``--var NAME=VALUE`` as ``(NAME, VALUE)``, in order;
    ``files``: each ``--var-file`` (relative to the verb's working directory),
    in order, later files winning. ``RETROGRADE_VAR_<name>`` is read when the
    stack is read.
    """

    values: Sequence[tuple[str, str]] = ()
    files: Sequence[Path] = ()


def read_stack(
    path: Path,
    *,
    source: str | None = None,
    allow_include: Iterable[Path] = (),
    max_bytes: int | None = None,
    stack_vars: StackVars | None = None,
    cwd: Path | None = None,
) -> Stack:
    """Parse the stack file at ``path``; its directory is where its handlers run.

    ``source`` is how errors name the file (default: ``path``).
    ``allow_include`` names directories that includes may come from besides
    the stack's own tree (``RETROGRADE_ALLOW_INCLUDE`` adds more);
    ``max_bytes`` bounds every file read (default: ``RETROGRADE_MAX_STACK_BYTES``).
    ``stack_vars`` gives values for the stack's vars (var files relative to ``cwd``,
    default the current directory); the environment's ``RETROGRADE_VAR_<name>`` too.
    """
    from retrograde.planning.stackfile import parse_stack

    name = source if source is not None else str(path)
    limit = max_bytes if max_bytes is not None else config.max_stack_bytes()
    text = _read_text(path, name, limit, "stack file")
    base_dir = _real(path).parent
    roots = (base_dir, *(_real(d) for d in config.allowed_include_dirs(allow_include)))
    return parse_stack(
        text,
        source=name,
        base_dir=str(base_dir),
        read_file=_IncludeReader(roots, limit).read,
        vars=_var_sources(stack_vars or StackVars(), cwd or Path.cwd(), limit),
    )


def read_verb_stack(
    cwd: Path,
    path: Path,
    *,
    allow_include: Iterable[Path] = (),
    stack_vars: StackVars | None = None,
) -> Stack:
    """:func:`read_stack` of a verb's FILE argument: ``path``, the ``allow_include``
    directories and var files relative to the verb's working directory ``cwd``; errors
    name ``path`` as it was given."""
    return read_stack(
        cwd / path,
        source=str(path),
        allow_include=[cwd / directory for directory in allow_include],
        stack_vars=stack_vars,
        cwd=cwd,
    )


def _var_sources(given: StackVars, cwd: Path, limit: int) -> VarSources:
    from retrograde.planning.stackfile import VarSources

    files = [
        (str(file), _read_text(cwd / file, str(file), limit, "var file")) for file in given.files
    ]
    return VarSources(given.values, files, config.stack_var_environment())


def _read_text(path: Path, name: str, limit: int, what: str) -> str:
    """A file's text. Any file the user names may be read (``/dev/stdin`` too), but never
    past the limit."""
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise StackError(f"cannot read {what}: {exc.strerror}", location=name) from exc
    if len(data) > limit:
        raise StackLimitError(_too_large(limit), location=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StackError(f"{what} is not UTF-8 text", location=name) from exc


def _real(path: Path) -> Path:
    """``path`` with every symlink and ``..`` resolved (a symlink loop is left as it is, and
    fails when opened)."""
    return Path(os.path.realpath(path))


def _too_large(limit: int) -> str:
    return f"larger than the limit of {limit} bytes (set RETROGRADE_MAX_STACK_BYTES to change it)"


class _IncludeReader:
    """Reads included files for :func:`parse_stack`, refusing what a stack may not include.

    Refusals are :class:`IncludeError` without a location; the parser adds the
    location of the include entry.
    """

    def __init__(self, roots: tuple[Path, ...], limit: int) -> None:
        self._roots = roots
        self._limit = limit

    def read(self, target: str) -> str:
        if "\0" in target:
            raise IncludeError(target, "it is not a usable file name (it holds a NUL character)")
        real = _real(Path(target))
        if not any(real.is_relative_to(root) for root in self._roots):
            raise IncludeError(
                target,
                "it is outside the stack's directory (allow its directory with"
                " --allow-include DIR or RETROGRADE_ALLOW_INCLUDE)",
            )
        fd = os.open(real, _OPEN_INCLUDE)
        try:
            self._check_file(target, os.fstat(fd))  # the file opened, not the name checked
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as file:
            data = file.read(self._limit + 1)
        if len(data) > self._limit:
            raise IncludeError(target, f"it is {_too_large(self._limit)}")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise IncludeError(target, "it is not UTF-8 text") from None

    def _check_file(self, target: str, status: os.stat_result) -> None:
        if not stat.S_ISREG(status.st_mode):
            raise IncludeError(target, f"it is {_kind(status.st_mode)}, not a regular file")
        if status.st_size > self._limit:
            raise IncludeError(target, f"it is {_too_large(self._limit)}")


def _kind(mode: int) -> str:
    """What a non-regular file is, for the refusal."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
