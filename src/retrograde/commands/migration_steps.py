"""Where migration steps written as code come from: ``python: module:function`` and named steps.

A type's migrations may call code in two ways (see :mod:`retrograde.planning.type_migrations`):

- ``python: "package.module:function"`` names the function directly;
- ``step: NAME`` names a step registered by an installed package under the
  entry-point group ``retrograde.migrations``::

      [project.entry-points."retrograde.migrations"]
      split-endpoint = "mypackage.upgrades:split_endpoint"

Both are called as ``function(inputs, context)`` and return the new inputs
(see :data:`~retrograde.planning.type_migrations.StepFunction`). Loading code is
I/O, so it lives here and not in planning: the registry is the
:class:`~retrograde.planning.type_migrations.StepResolver` handed to the pure
migration functions (tests build one from a dict); entry points are listed
once and each is loaded only when a migration uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points

from retrograde.planning.type_migrations import StepFunction, UnknownStepError
from retrograde.targets import TargetError, TargetProblem, load_callable

ENTRY_POINT_GROUP = "retrograde.migrations"


class StepRegistry:
    """Custom migration steps by name, plus resolution of ``module:function`` targets."""

    def __init__(
        self, named: Mapping[str, StepFunction] | None = None, *, discover: bool = False
    ) -> None:
        self._named: dict[str, StepFunction] = dict(named or {})
        self._discover = discover
        self._entry_points: dict[str, EntryPoint] | None = None
        self._targets: dict[str, StepFunction] = {}

    @classmethod
    def installed(cls) -> StepRegistry:
        """The steps installed packages register under ``retrograde.migrations``.

        The entry points are listed on the first use of a named step, so
        staging a stack that uses none never scans the installed packages.
        """
        return cls(discover=True)

    def names(self) -> list[str]:
        return sorted(self._named.keys() | self._points().keys())

    def named(self, name: str) -> StepFunction:
        """The step registered as ``name``; :class:`UnknownStepError` if none is."""
        if name not in self._named:
            point = self._points().get(name)
            if point is None:
                known = ", ".join(self.names()) or "none are installed"
                raise UnknownStepError(f"no migration step is registered as {name!r} ({known})")
            self._named[name] = _load(point)
        return self._named[name]

    def _points(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            found = entry_points(group=ENTRY_POINT_GROUP) if self._discover else ()
            self._entry_points = {point.name: point for point in found}
        return self._entry_points

    def python(self, target: str) -> StepFunction:
        """The function ``module:function`` names; :class:`UnknownStepError` if it cannot load."""
        if target not in self._targets:
            self._targets[target] = import_target(target)
        return self._targets[target]


def import_target(target: str) -> StepFunction:
    """Import ``package.module:attr.path`` and return the callable it names."""
    try:
        function: StepFunction = load_callable(target)
    except TargetError as error:
        raise UnknownStepError(_problem(error)) from error
    return function


def _problem(error: TargetError) -> str:
    match error.problem:
        case TargetProblem.MALFORMED:
            return f"{error.target!r} is not 'module:function'"
        case TargetProblem.UNLOADABLE:
            return f"cannot load {error.target!r}: {error.detail}"
        case TargetProblem.NOT_CALLABLE:
            return f"{error.target!r} is not callable"


def _load(point: EntryPoint) -> StepFunction:
    try:
        found = point.load()
    except Exception as exc:
        raise UnknownStepError(
            f"cannot load migration step {point.name!r} ({point.value}): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return _callable(found, f"migration step {point.name!r} ({point.value})")


def _callable(found: object, what: str) -> StepFunction:
    if not callable(found):
        raise UnknownStepError(f"{what} is not callable")
    function: StepFunction = found
    return function
