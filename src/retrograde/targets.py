"""Loading the callable a ``module:attr.path`` target names.

Python handlers and Python migration steps are both written this way; each
caller turns a :class:`TargetError` into its own error, naming what the target
was for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from enum import StrEnum
from typing import Any


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


def load_callable(target: str) -> Callable[..., Any]:
    """Import ``module:attr.path`` and return the callable it names."""
    module_name, sep, attribute_path = target.partition(":")
    if not sep or not module_name or not attribute_path:
        raise TargetError(target, TargetProblem.MALFORMED)
    try:
        found: object = importlib.import_module(module_name)
        for attribute in attribute_path.split("."):
            found = getattr(found, attribute)
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        raise TargetError(target, TargetProblem.UNLOADABLE, detail) from exc
    if not callable(found):
        raise TargetError(target, TargetProblem.NOT_CALLABLE)
    return found
