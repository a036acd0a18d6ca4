"""Resources in a stack file: typed inputs, the connections between them, no cycles.

Checked in three linear passes: each resource alone (type, tags, literal
inputs, required inputs), then every connection against the resource and input
it names, then the connection graph for cycles.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from retrograde.errors import (
    CycleError,
    InputTypeError,
    MaskedSecretError,
    MissingInputError,
    StackError,
    StackSyntaxError,
    UnknownReferenceError,
    UnknownTypeError,
)
from retrograde.model.jsonvalue import JSON, Raw
from retrograde.model.secrets import is_masked
from retrograde.model.state import ConnectionSlot, ResourceState, iter_refs, parse_ref
from retrograde.model.types import QUEUE_TAG, InputKind, InputSpec, ResourceType
from retrograde.planning.graph import topological_order
from retrograde.planning.stackfile_types import parse_queue
from retrograde.planning.stackfile_values import (
    RESOURCE_NAME,
    check_keys,
    check_name,
    input_value,
    kind_of,
    mapping,
    scalar_text,
)
from retrograde.planning.stackfile_yaml import Document, Path

if TYPE_CHECKING:
    from retrograde.planning.stackfile_vars import Vars

RESOURCE_KEYS = frozenset({"type", "tags", "inputs", "queue"})


@dataclass(frozen=True, slots=True)
class Scope:
    """How the resource names one file writes map to the stack's names.

    A file included with a prefix defines its resources under that prefix, and
    its ``${X.input}`` names its own X (prefixed) when it defines X, else X as
    the file that includes it would name it.
    """

    prefix: str = ""
    defines: frozenset[str] = frozenset()
    outer: Scope | None = None

    def resolve(self, name: str) -> str:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.defines:
                return scope.prefix + name
            scope = scope.outer
        return name


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a resource is written: its file and its name there (before any prefix)."""

    doc: Document
    name: str

    def at(self, *rest: Raw, key: bool = False) -> str:
        return self.doc.at(("resources", self.name, *rest), key=key)


@dataclass(slots=True)
class Resources:
    """Resources gathered from the stack file and its includes, by the stack's names."""

    states: dict[str, ResourceState] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)

    def read(
        self,
        doc: Document,
        raw: Raw,
        types: Mapping[str, ResourceType],
        *,
        vars: Vars | None = None,
        scope: Scope | None = None,
    ) -> None:
        """Add the resources under ``resources:`` of ``doc`` (checked alone, not yet against
        each other), named as ``scope`` names them (default: as written)."""
        scope = scope or Scope()
        for name, spec in mapping(doc, ("resources",), raw, "resources").items():
            state = _resource(doc, name, spec, types, vars)
            full = scope.prefix + name
            first = self.origins.get(full)
            if first is not None:
                raise StackError(
                    f"resource {full!r} is defined twice (first at {first.at(key=True)})",
                    location=doc.at(("resources", name), key=True),
                )
            if scope.outer is not None and state.connections:
                state = replace(state, connections=_renamed(state.connections, scope))
            self.states[full] = state
            self.origins[full] = Origin(doc, name)

    def checked(self, types: Mapping[str, ResourceType]) -> dict[str, ResourceState]:
        """The resources, once every connection and the graph are checked."""
        _check_cycles(self.origins, _check_connections(self.origins, self.states, types))
        return self.states


def parse_resources(
    doc: Document, raw: Raw, types: Mapping[str, ResourceType], vars: Vars | None = None
) -> dict[str, ResourceState]:
    """Every resource under ``resources:``, in file order, checked against ``types``."""
    found = Resources()
    found.read(doc, raw, types, vars=vars)
    return found.checked(types)


def _renamed(connections: Mapping[str, ConnectionSlot], scope: Scope) -> dict[str, ConnectionSlot]:
    """Connections with each producer named as ``scope`` resolves it."""

    def ref(text: str) -> str:
        producer, input_name = parse_ref(text)
        return f"{scope.resolve(producer)}.{input_name}"

    return {
        name: ref(slot) if isinstance(slot, str) else [r if r is None else ref(r) for r in slot]
        for name, slot in connections.items()
    }


def _resource(
    doc: Document, name: Raw, raw: Raw, types: Mapping[str, ResourceType], vars: Vars | None
) -> ResourceState:
    path = ("resources", name)
    check_name(doc, path, name, RESOURCE_NAME, "resource")
    what = f"resource {name!r}"
    spec = mapping(doc, path, raw, what)
    check_keys(doc, path, spec, RESOURCE_KEYS, what)
    rtype = _type_of(doc, path, spec, name, types)
    tags = _tags(doc, (*path, "tags"), spec.get("tags"), what)
    queue = parse_queue(doc, (*path, "queue"), spec.get("queue"), what)
    if queue is not None:
        tags[QUEUE_TAG] = queue  # kept as a tag: it shows in state and selects in rollback
    inputs, connections = _inputs(doc, path, name, spec.get("inputs"), rtype, vars)
    return ResourceState(rtype.name, rtype.version, inputs, connections, tags)


def _type_of(
    doc: Document, path: Path, spec: dict[str, Raw], name: str, types: Mapping[str, ResourceType]
) -> ResourceType:
    if "type" not in spec:
        raise StackSyntaxError(f"resource {name!r} has no type", location=doc.at(path, key=True))
    type_name = spec["type"]
    if type_name.__class__ is not str:
        raise StackSyntaxError(
            f"type of resource {name!r} must be a string, got {kind_of(type_name)}",
            location=doc.at((*path, "type")),
        )
    rtype = types.get(type_name)
    if rtype is None:
        raise UnknownTypeError(name, type_name, location=doc.at((*path, "type")))
    return rtype


def _tags(doc: Document, path: Path, raw: Raw, what: str) -> dict[str, str]:
    """Tags as text: scalars are written the way YAML reads them (``true``, ``3``)."""
    tags = mapping(doc, path, raw, f"tags of {what}")
    out = {}
    for key, value in tags.items():
        if key.__class__ is not str:
            raise StackSyntaxError(
                f"tag names of {what} must be strings, got {key!r}",
                location=doc.at((*path, key), key=True),
            )
        text = scalar_text(value)
        if text is None:
            raise StackSyntaxError(
                f"tag {key!r} of {what} must be a scalar, got {kind_of(value)}",
                location=doc.at((*path, key)),
            )
        out[key] = text
    return out


def _inputs(
    doc: Document, path: Path, name: str, raw: Raw, rtype: ResourceType, vars: Vars | None
) -> tuple[dict[str, JSON], dict[str, ConnectionSlot]]:
    """Every declared input (given, else default) and the connections among them."""
    input_path = (*path, "inputs")
    given = mapping(doc, input_path, raw, f"inputs of resource {name!r}")
    declared = rtype.inputs
    if not given.keys() <= declared.keys():
        _reject_undeclared(doc, input_path, name, given, rtype)
    inputs: dict[str, JSON] = {}
    connections: dict[str, ConnectionSlot] = {}
    for input_name, spec in declared.items():
        if input_name in given:
            at = (*input_path, input_name)
            value, slot = _given(doc, at, name, spec, given[input_name], vars)
            if slot is not None:
                connections[input_name] = slot
        elif spec.has_default:
            value = _fresh(spec.default)
        else:
            raise MissingInputError(name, input_name, location=doc.at(path, key=True))
        if spec.secret and is_masked(value):
            at = (*input_path, input_name) if input_name in given else path
            raise MaskedSecretError(f"{name}.{input_name}", location=doc.at(at))
        inputs[input_name] = value
    return inputs, connections


def _reject_undeclared(
    doc: Document, path: Path, name: str, given: dict[str, Raw], rtype: ResourceType
) -> None:
    unknown = next(key for key in given if key not in rtype.inputs)
    declares = ", ".join(rtype.inputs) or "no inputs"
    raise UnknownReferenceError(
        f"resource {name!r} has no input {unknown!r} (type {rtype.name!r} declares: {declares})",
        resource=name,
        input=str(unknown),
        location=doc.at((*path, unknown), key=True),
    )


def _given(
    doc: Document, path: Path, name: str, spec: InputSpec, raw: Raw, vars: Vars | None
) -> tuple[JSON, ConnectionSlot | None]:
    """A given input as (value, slot); a whole-value connection is checked in a later pass."""
    value, slot = input_value(doc, path, raw, secret=spec.secret, vars=vars)
    if slot.__class__ is not str and not spec.kind.accepts(value):
        raise InputTypeError(
            name, spec.name, spec.kind.value, raw, location=doc.at(path), secret=spec.secret
        )
    return value, slot


def _fresh(default: JSON) -> JSON:
    """A default for one resource: containers are copied so no two resources share one."""
    if isinstance(default, list | dict):
        return copy.deepcopy(default)
    return default


def _check_connections(
    origins: Mapping[str, Origin],
    states: dict[str, ResourceState],
    types: Mapping[str, ResourceType],
) -> dict[str, set[str]]:
    """Check that each connection names a declared input of a resource in the file, of a
    fitting kind; return the producers of each resource that has connections."""
    waits_for: dict[str, set[str]] = {}
    for name, state in states.items():
        if not state.connections:
            continue
        declared = types[state.type].inputs
        producers = waits_for[name] = set()
        origin = origins[name]
        doc = origin.doc
        for input_name, index, producer, producer_input in iter_refs(state.connections):
            producers.add(producer)
            path: Path = ("resources", origin.name, "inputs", input_name)
            if index is not None:
                path = (*path, index)
            source = _producer_input(doc, path, states, types, producer, producer_input)
            if source.secret and not declared[input_name].secret:
                raise StackError(
                    f"input {name}.{input_name} takes a secret from {producer}.{producer_input}; "
                    f"declare it secret: true in type {state.type!r}",
                    location=doc.at(path),
                )
            kind = declared[input_name].kind
            if index is None and not _fits(source.kind, kind):
                raise InputTypeError(
                    name,
                    input_name,
                    f"{kind.value} ({producer}.{producer_input} is {source.kind.value})",
                    f"${{{producer}.{producer_input}}}",
                    location=doc.at(path),
                )
    return waits_for


def _producer_input(
    doc: Document,
    path: Path,
    states: dict[str, ResourceState],
    types: Mapping[str, ResourceType],
    producer: str,
    producer_input: str,
) -> InputSpec:
    ref = f"${{{producer}.{producer_input}}}"
    state = states.get(producer)
    if state is None:
        raise UnknownReferenceError(
            f"connection {ref} names unknown resource {producer!r}",
            resource=producer,
            input=producer_input,
            location=doc.at(path),
        )
    spec = types[state.type].inputs.get(producer_input)
    if spec is None:
        raise UnknownReferenceError(
            f"connection {ref}: resource {producer!r} (type {state.type!r})"
            f" has no input {producer_input!r}",
            resource=producer,
            input=producer_input,
            location=doc.at(path),
        )
    return spec


def _fits(producer: InputKind, consumer: InputKind) -> bool:
    """Whether values of ``producer`` kind always fit ``consumer`` (integers are numbers)."""
    return (
        producer == consumer
        or InputKind.ANY in (producer, consumer)
        or (producer, consumer) == (InputKind.INTEGER, InputKind.NUMBER)
    )


def _check_cycles(origins: Mapping[str, Origin], waits_for: dict[str, set[str]]) -> None:
    """Reject a cycle, named in data-flow order (each resource feeds the next).

    Only resources with connections are in ``waits_for``: one without any
    cannot be on a cycle.
    """
    try:
        topological_order(waits_for)
    except CycleError as exc:
        # The graph lists what each resource waits for; reversed, the smallest
        # name stays first and every resource is followed by one it feeds.
        cycle = [exc.cycle[0], *reversed(exc.cycle[1:])]
        where = origins[cycle[0]].at(key=True)
        raise CycleError(cycle, location=where) from exc
