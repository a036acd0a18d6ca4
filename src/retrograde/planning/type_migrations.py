"""Migrations between versions of a resource type, and resumption migrations. Pure.

A type's ``migrations`` (kept as data by the stack-file parser) are steps, each
a mapping with integer ``from`` and ``to`` versions and at most one action::

    migrations:
      - {from: 1, to: 2, rename: {ip: address}}        # rename inputs (old: new)
      - {from: 1, to: 2, default: {port: 5000}}        # set inputs that are absent
      - {from: 2, to: 3, drop: [legacy]}               # drop inputs (a name or a list)
      - {from: 3, to: 4, python: "pkg.upgrades:fix"}   # call function(inputs, context)
      - {from: 4, to: 5, step: split-endpoint, args: {port: 80}}  # a registered step
      - {from: 5, to: 6}                               # a version with nothing to migrate

Steps with the same ``from`` and ``to`` run in the order written. A path from
version A to version B chains such hops (the fewest hops; ties go to the hop
written first). Renames and drops move or drop the input's connection too;
after code steps, connections of inputs that are gone are dropped.

Two users:

- :func:`version_migrations` (staging): committed resources whose type's
  version changed in the stack file get their inputs migrated along a path,
  as ``migrate`` changes with a forward diff (hence a reverse). Without a path
  the resource is simply updated, as before migrations existed.
- :func:`reconcile` (resuming against a stack file, docs/durability.md): the stored
  tasks of an interrupted apply are compared with the stack's changes and each
  inconsistency is resolved in a fixed order: removed tasks, then added ones,
  then changed versions, for which a migration path is required.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from retrograde.errors import MigrationStepError
from retrograde.model.change import ActionName, Change, input_diff
from retrograde.model.jsonvalue import JSON, Raw
from retrograde.model.state import ConnectionSlot, ResourceState, State
from retrograde.model.types import ResourceType

StepFunction = Callable[[dict[str, Raw], dict[str, Raw]], Mapping[str, Raw]]
"""``function(inputs, context) -> new inputs`` (user code: what it returns is checked).
``inputs`` is a copy the function may change; ``context`` holds ``resource``, ``type``,
``from``, ``to`` and the step's ``args``."""


class UnknownStepError(LookupError):
    """A step name or target that cannot be resolved; the message says why."""


class StepResolver(Protocol):
    """Where code steps come from; given to planning by the caller, which does the loading
    (:class:`retrograde.commands.migration_steps.StepResolver`), so planning imports nothing."""

    def python(self, target: str) -> StepFunction:
        """The function ``module:function`` names; :class:`UnknownStepError` if it cannot load."""
        ...

    def named(self, name: str) -> StepFunction:
        """The step registered as ``name``; :class:`UnknownStepError` if none is."""
        ...


STEP_KINDS = ("rename", "default", "drop", "python", "step")
"""What one migration step may do; a step without one only moves the version."""

_STEP_KEYS = frozenset({"from", "to", "args", *STEP_KINDS})


@dataclass(frozen=True, slots=True)
class Step:
    """One checked step: ``kind`` (or None for a bare version hop), its value and ``args``."""

    kind: str | None
    value: JSON = None
    args: Mapping[str, JSON] = field(default_factory=dict)

    def describe(self) -> str:
        """Short text for reports: ``rename ip -> address``, ``python pkg:fn`` ..."""
        value = self.value
        match self.kind:
            case "rename":
                assert isinstance(value, dict)
                return ", ".join(f"rename {old} -> {new}" for old, new in value.items())
            case "default":
                assert isinstance(value, dict)
                return ", ".join(f"default {k} = {json.dumps(v)}" for k, v in value.items())
            case "drop":
                return "drop " + ", ".join(_names(value))
            case None:
                return "no change"
        return f"{self.kind} {value}"


@dataclass(frozen=True, slots=True)
class Migration:
    """The steps that take inputs of type ``type`` from version ``source`` to ``target``."""

    type: str
    source: int
    target: int
    steps: tuple[Step, ...]

    def describe(self) -> str:
        shown = [s.describe() for s in self.steps if s.kind is not None]
        return f"v{self.source} -> v{self.target}" + (f" ({'; '.join(shown)})" if shown else "")


def compile_migrations(rtype: ResourceType) -> list[Migration]:
    """The type's migrations grouped into hops, in the order first written.

    Raises :class:`MigrationStepError` for a malformed step (unknown key, two
    actions in one step, a value of the wrong shape).
    """
    hops: dict[tuple[int, int], list[Step]] = {}
    for raw in rtype.migrations:
        key = (_version(raw, "from", rtype), _version(raw, "to", rtype))
        hops.setdefault(key, []).append(_step(rtype.name, key, raw))
    return [Migration(rtype.name, a, b, tuple(steps)) for (a, b), steps in hops.items()]


def _version(raw: Mapping[str, JSON], end: str, rtype: ResourceType) -> int:
    value = raw.get(end)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MigrationStepError(rtype.name, 0, 0, f"a step has no integer {end!r} version")
    return value


def _step(type_name: str, key: tuple[int, int], raw: Mapping[str, JSON]) -> Step:
    def problem(text: str) -> MigrationStepError:
        return MigrationStepError(type_name, key[0], key[1], text)

    unknown = sorted(set(raw) - _STEP_KEYS)
    if unknown:
        raise problem(f"unknown key {unknown[0]!r}; a step may hold one of {', '.join(STEP_KINDS)}")
    kinds = [kind for kind in STEP_KINDS if kind in raw]
    if len(kinds) > 1:
        raise problem(f"a step holds {' and '.join(kinds)}; write one step for each")
    args = raw.get("args", {})
    if not isinstance(args, dict) or (args and kinds[:1] not in (["python"], ["step"])):
        raise problem("'args' must be a mapping, given with a 'python' or 'step' step")
    if not kinds:
        return Step(None)
    kind = kinds[0]
    value = raw[kind]
    _check_value(kind, value, problem)
    return Step(kind, value, args)


def _check_value(kind: str, value: JSON, problem: Callable[[str], MigrationStepError]) -> None:
    if kind == "rename" and not _str_mapping(value, values_too=True):
        raise problem("'rename' must map input names to new input names")
    if kind == "default" and not _str_mapping(value, values_too=False):
        raise problem("'default' must map input names to values")
    if kind == "drop" and not _names(value):
        raise problem("'drop' must be an input name or a list of input names")
    if kind in ("python", "step") and not (isinstance(value, str) and value):
        raise problem(f"'{kind}' must be a non-empty string")


def _str_mapping(value: JSON, *, values_too: bool) -> bool:
    if not isinstance(value, dict) or not value:
        return False
    return all(isinstance(v, str) and v for v in value.values()) if values_too else True


def _names(value: JSON) -> list[str]:
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [n for n in names if isinstance(n, str) and n] if names else []


def migration_path(migrations: Sequence[Migration], start: int, end: int) -> list[Migration] | None:
    """The fewest hops from version ``start`` to ``end`` (``[]`` when equal), or None."""
    if start == end:
        return []
    paths: dict[int, list[Migration]] = {start: []}
    queue = deque([start])
    while queue:
        version = queue.popleft()
        for hop in migrations:
            if hop.source == version and hop.target not in paths:
                paths[hop.target] = [*paths[version], hop]
                if hop.target == end:
                    return paths[end]
                queue.append(hop.target)
    return None


def migrate_state(
    resource: str, state: ResourceState, path: Sequence[Migration], registry: StepResolver
) -> ResourceState:
    """``state`` with its inputs (and their connections) taken along ``path``."""
    inputs: dict[str, JSON] = dict(state.inputs)
    connections: dict[str, ConnectionSlot] = dict(state.connections)
    for hop in path:
        for step in hop.steps:
            inputs = _run_step(resource, hop, step, inputs, connections, registry)
    kept = {name: slot for name, slot in connections.items() if name in inputs}
    version = path[-1].target if path else state.version
    return ResourceState(state.type, version, inputs, kept, state.tags)


def _run_step(
    resource: str,
    hop: Migration,
    step: Step,
    inputs: dict[str, JSON],
    connections: dict[str, ConnectionSlot],
    registry: StepResolver,
) -> dict[str, JSON]:
    """Apply one step; renames and drops edit ``connections`` in place."""
    value = step.value
    if step.kind == "rename" and isinstance(value, dict):
        for old, new in value.items():
            _move(inputs, old, str(new))
            _move(connections, old, str(new))
    elif step.kind == "default" and isinstance(value, dict):
        for name, default in value.items():
            inputs.setdefault(name, default)
    elif step.kind == "drop":
        for name in _names(value):
            inputs.pop(name, None)
            connections.pop(name, None)
    elif step.kind in ("python", "step"):
        return _call(resource, hop, step, inputs, registry)
    return inputs


def _move(values: dict[str, Raw], old: str, new: str) -> None:
    if old in values:
        values[new] = values.pop(old)


def _call(
    resource: str, hop: Migration, step: Step, inputs: dict[str, JSON], registry: StepResolver
) -> dict[str, JSON]:
    """Run a code step; anything wrong becomes a :class:`MigrationStepError` naming it."""

    def problem(text: str) -> MigrationStepError:
        what = f"{step.kind} {step.value}: {text}"
        return MigrationStepError(hop.type, hop.source, hop.target, what, resource=resource)

    context = {
        "resource": resource,
        "type": hop.type,
        "from": hop.source,
        "to": hop.target,
        "args": dict(step.args),
    }
    try:
        function = _resolve(step, registry)
        result = function(dict(inputs), context)
    except UnknownStepError as exc:
        raise problem(str(exc)) from exc
    except Exception as exc:
        raise problem(f"raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(result, Mapping) or not all(isinstance(k, str) for k in result):
        raise problem(f"must return a mapping of input names, got {type(result).__name__}")
    try:
        json.dumps(dict(result))
    except (TypeError, ValueError) as exc:
        raise problem(f"returned a value that is not JSON: {exc}") from exc
    return dict(result)


def _resolve(step: Step, registry: StepResolver) -> StepFunction:
    name = str(step.value)
    return registry.python(name) if step.kind == "python" else registry.named(name)


class MigrationPlanner:
    """Compiles each type's migrations once and finds paths between its versions."""

    def __init__(self, types: Mapping[str, ResourceType], registry: StepResolver) -> None:
        self.types = types
        self.registry = registry
        self._compiled: dict[str, list[Migration]] = {}

    def path(self, type_name: str, start: int, end: int) -> list[Migration] | None:
        """The path from ``start`` to ``end`` in the current definition of ``type_name``."""
        if type_name not in self._compiled:
            rtype = self.types.get(type_name)
            self._compiled[type_name] = compile_migrations(rtype) if rtype else []
        return migration_path(self._compiled[type_name], start, end)

    def check_all(self) -> None:
        """Compile every type's migrations, so a malformed step is refused up front."""
        for name in self.types:
            self.path(name, 0, 0)


def version_migrations(committed: State, desired: State, planner: MigrationPlanner) -> list[Change]:
    """``migrate`` changes for committed resources whose type version changed, where a path exists.

    Each migrated resource keeps its type, connections (moved with renamed
    inputs) and tags, and takes the new version; its diff is the input diff.
    Resources are in name order. Linear in the resources both states hold.
    """
    changes: list[Change] = []
    for name in sorted(committed.keys() & desired.keys()):
        before, wanted = committed[name], desired[name]
        if before.type != wanted.type or before.version == wanted.version:
            continue
        path = planner.path(wanted.type, before.version, wanted.version)
        if path is None:
            continue
        after = migrate_state(name, before, path, planner.registry)
        diff = input_diff(before.inputs, after.inputs)
        changes.append(Change(name, ActionName.MIGRATE, before, after, diff))
    return changes


def migrated(committed: State, changes: Sequence[Change]) -> State:
    """``committed`` with the ``after`` side of each migrate change (itself when there are none)."""
    if not changes:
        return committed
    result = dict(committed)
    for change in changes:
        assert change.after is not None
        result[change.resource] = change.after
    return result
