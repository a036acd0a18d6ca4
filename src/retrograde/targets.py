"""Loading the callable a ``module:attr.path`` target names.

Python handlers and Python migration steps are both written this way; each
caller turns a :class:`TargetError` into its own error, naming what the target
was for.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

_PATH_LOCK = threading.RLock()


class TargetProblem(StrEnum):
    MALFORMED = "malformed"
    UNLOADABLE = "unloadable"
    NOT_CALLABLE = "not callable"


class TargetError(Exception):
    """Why ``target`` names no callable; ``detail`` is the import error, if any."""

    def __init__(self, target: str, problem: TargetProblem, detail: str = "") -> None:
        super().__init__(f"{target!r}: {problem.value} {detail}".rstrip())
        self.target = target
        self.problem = problem
        self.detail = detail


@contextmanager
def importable_from(directory: str | None, *, write_bytecode: bool = True) -> Iterator[None]:
    """``directory`` (a stack's directory, where its modules live) first on ``sys.path``
    for the duration, one import at a time; nothing changes when it is None."""
    with _PATH_LOCK:
        if directory is None:
            yield
            return
        writes = sys.dont_write_bytecode
        sys.path.insert(0, directory)
        sys.dont_write_bytecode = writes or not write_bytecode
        try:
            yield
        finally:
            sys.dont_write_bytecode = writes
            sys.path.remove(directory)


def load_callable(target: str, *, search: str | None = None) -> Callable[..., Any]:
    """Import ``module:attr.path`` (looking in ``search`` first) and return what it names."""
    module_name, sep, attribute_path = target.partition(":")
    if not sep or not module_name or not attribute_path:
        raise TargetError(target, TargetProblem.MALFORMED)
    try:
        with importable_from(search):
            if search is not None:
                _forget_shadowed(module_name, search)
            found: object = importlib.import_module(module_name)
        for attribute in attribute_path.split("."):
            found = getattr(found, attribute)
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        raise TargetError(target, TargetProblem.UNLOADABLE, detail) from exc
    if not callable(found):
        raise TargetError(target, TargetProblem.NOT_CALLABLE)
    return found


def _forget_shadowed(module_name: str, directory: str) -> None:
    """Drop ``module_name``'s top-level module (and its submodules) from the import cache
    when ``directory`` holds a module of that name and the cached one came from elsewhere.

    Modules are cached by name for the whole process: without this, a second stack whose
    directory has its own ``actions.py`` would get the first stack's (a server or a
    library caller applies many stacks in one process). A module only found elsewhere
    (installed, or on the path) is never dropped.
    """
    top = module_name.partition(".")[0]
    cached = sys.modules.get(top)
    if cached is None:
        return
    own = next(
        (
            p
            for p in (Path(directory, f"{top}.py"), Path(directory, top, "__init__.py"))
            if p.is_file()
        ),
        None,
    )
    origin = getattr(cached, "__file__", None)
    if own is None or (origin is not None and Path(origin).resolve() == own.resolve()):
        return
    for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
        del sys.modules[name]
    importlib.invalidate_caches()
