"""Resource types in a stack file: version, input schema, actions and migrations."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from retrograde.errors import InputTypeError, MaskedSecretError, StackSyntaxError
from retrograde.model.jsonvalue import JSON, Raw
from retrograde.model.secrets import is_masked
from retrograde.model.types import (
    COMMAND,
    ActionSpec,
    InputKind,
    InputSpec,
    ResourceType,
    encode_argv,
)
from retrograde.planning.stackfile_values import (
    INPUT_NAME,
    check_keys,
    check_name,
    kind_of,
    literal,
    mapping,
    plain_json,
)
from retrograde.planning.stackfile_yaml import Document, Path

if TYPE_CHECKING:
    from retrograde.planning.stackfile_vars import Vars

HANDLER_KINDS = ("ansible", COMMAND, "python", "shell")
ACTION_NAMES = frozenset({"run", "update", "remove", "read"})
INPUT_KEYS = frozenset({"type", "default", "secret"})
_PYTHON_TARGET = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_KIND_NAMES = frozenset(kind.value for kind in InputKind)
_KINDS = ", ".join(kind.value for kind in InputKind)


def _number(value: Raw) -> bool:
    return value.__class__ in (int, float) and math.isfinite(value)


_OPTIONS: dict[str, tuple[Callable[[Any], bool], str, Callable[[Any], Any]]] = {
    "timeout": (lambda v: _number(v) and v > 0, "a positive number of seconds", float),
    "retries": (lambda v: v.__class__ is int and v >= 0, "an integer >= 0", int),
    "retry_delay": (lambda v: _number(v) and v >= 0, "a number of seconds >= 0", float),
    "queue_timeout": (lambda v: _number(v) and v > 0, "a positive number of seconds", float),
}
"""Action options, each as (check, what the check wants, conversion)."""

TYPE_KEYS = frozenset({"version", "inputs", "actions", "migrations", "queue", "files", *_OPTIONS})
QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
"""A queue name (``queue:``, or a ``route_by`` tag's value): what brokers accept everywhere."""


def parse_type(
    doc: Document,
    name: Raw,
    raw: Raw,
    base_dir: str,
    *,
    defined_in: str | None = None,
    vars: Vars | None = None,
) -> ResourceType:
    """The resource type ``name`` defined at ``types.<name>`` in ``doc``.

    ``defined_in`` is the included file (relative to ``base_dir``) that holds
    the definition, recorded first among the type's ``files``. Input defaults
    may use the stack's ``vars``.
    """
    path = ("types", name)
    if name.__class__ is not str or not name:
        raise StackSyntaxError(
            f"a type name must be a non-empty string, got {name!r}",
            location=doc.at(path, key=True),
        )
    what = f"type {name!r}"
    spec = mapping(doc, path, raw, what)
    check_keys(doc, path, spec, TYPE_KEYS, what)
    return ResourceType(
        name=name,
        version=_version(doc, path, spec, what),
        inputs=_inputs(doc, (*path, "inputs"), spec.get("inputs"), name, vars),
        actions=_actions(doc, path, spec, name),
        base_dir=base_dir,
        migrations=_migrations(doc, (*path, "migrations"), spec.get("migrations"), what),
        queue=parse_queue(doc, (*path, "queue"), spec.get("queue"), what),
        files=(*((defined_in,) if defined_in else ()), *_files(doc, (*path, "files"), spec, what)),
    )


def parse_queue(doc: Document, path: Path, raw: Raw, what: str) -> str | None:
    """A ``queue:`` (of a type or a resource): a queue name, or absent."""
    if raw is None:
        return None
    if raw.__class__ is not str or not QUEUE_NAME.fullmatch(raw):
        raise StackSyntaxError(
            f"queue of {what} must be a queue name (letters, digits, '.', '_', ':', '-'), "
            f"got {kind_of(raw)} {raw!r}",
            location=doc.at(path),
        )
    return raw


def _files(doc: Document, path: Path, spec: dict[str, Raw], what: str) -> tuple[str, ...]:
    """A type's ``files:``: relative paths under the stack's directory that its handlers use."""
    raw = spec.get("files", [])
    if raw.__class__ is not list:
        raise StackSyntaxError(f"files of {what} must be a list of paths", location=doc.at(path))
    for index, entry in enumerate(raw):
        if (
            entry.__class__ is not str
            or not entry
            or entry.startswith("/")
            or ".." in entry.split("/")
        ):
            raise StackSyntaxError(
                f"files of {what} must be relative paths inside the stack's directory, "
                f"got {entry!r}",
                location=doc.at((*path, index)),
            )
    return tuple(raw)


def _version(doc: Document, path: Path, spec: dict[str, Raw], what: str) -> int:
    if "version" not in spec:
        raise StackSyntaxError(f"{what} has no version", location=doc.at(path, key=True))
    version = spec["version"]
    if version.__class__ is not int or version < 1:
        raise StackSyntaxError(
            f"version of {what} must be an integer >= 1, got {kind_of(version)} {version!r}",
            location=doc.at((*path, "version")),
        )
    return version


def _inputs(
    doc: Document, path: Path, raw: Raw, type_name: str, vars: Vars | None
) -> dict[str, InputSpec]:
    specs = mapping(doc, path, raw, f"inputs of type {type_name!r}")
    return {
        check_name(doc, (*path, name), name, INPUT_NAME, "input"): _input(
            doc, (*path, name), name, spec, type_name, vars
        )
        for name, spec in specs.items()
    }


def _input(
    doc: Document, path: Path, name: str, raw: Raw, type_name: str, vars: Vars | None
) -> InputSpec:
    what = f"input {name!r} of type {type_name!r}"
    spec = mapping(doc, path, raw, what)
    check_keys(doc, path, spec, INPUT_KEYS, what)
    kind = _kind(doc, (*path, "type"), spec.get("type", InputKind.ANY.value), what)
    secret = spec.get("secret", False)
    if secret.__class__ is not bool:
        raise StackSyntaxError(
            f"secret of {what} must be true or false, got {secret!r}",
            location=doc.at((*path, "secret")),
        )
    if "default" not in spec:
        return InputSpec(name, kind, secret=secret)
    default = literal(doc, (*path, "default"), spec["default"], secret=secret, vars=vars)
    if secret and is_masked(default):
        where = doc.at((*path, "default"))
        raise MaskedSecretError(f"{type_name}.{name}", default=True, location=where)
    if not kind.accepts(default):
        raise InputTypeError(
            type_name, name, kind.value, default, location=doc.at((*path, "default")), secret=secret
        )
    return InputSpec(name, kind, default, has_default=True, secret=secret)


def _kind(doc: Document, path: Path, value: Raw, what: str) -> InputKind:
    if value.__class__ is not str or value not in _KIND_NAMES:
        raise StackSyntaxError(
            f"unknown type {value!r} for {what}; expected one of: {_KINDS}",
            location=doc.at(path),
        )
    return InputKind(value)


def _actions(
    doc: Document, type_path: Path, spec: dict[str, Raw], type_name: str
) -> dict[str, ActionSpec]:
    """Each action given, with the type's options as defaults for its own."""
    defaults = _options(doc, type_path, spec, f"type {type_name!r}")
    path = (*type_path, "actions")
    actions = mapping(doc, path, spec.get("actions"), f"actions of type {type_name!r}")
    check_keys(doc, path, actions, ACTION_NAMES, f"actions of type {type_name!r}")
    return {
        name: _action(doc, (*path, name), raw, f"action {name!r} of type {type_name!r}", defaults)
        for name, raw in actions.items()
    }


def _action(doc: Document, path: Path, raw: Raw, what: str, defaults: dict[str, Raw]) -> ActionSpec:
    spec = mapping(doc, path, raw, what)
    kinds = ", ".join(HANDLER_KINDS)
    for key in spec:
        if key not in HANDLER_KINDS and key not in _OPTIONS:
            raise StackSyntaxError(
                f"unknown handler kind {key!r} in {what}; expected one of: {kinds}",
                location=doc.at((*path, key), key=True),
            )
    handlers = [key for key in spec if key in HANDLER_KINDS]
    if not handlers:
        raise StackSyntaxError(
            f"{what} has no handler; give one of: {kinds}", location=doc.at(path, key=True)
        )
    if len(handlers) > 1:
        raise StackSyntaxError(
            f"{what} has more than one handler ({', '.join(handlers)}); give exactly one",
            location=doc.at((*path, handlers[1]), key=True),
        )
    handler = handlers[0]
    target = _target(doc, (*path, handler), handler, spec[handler], what)
    return ActionSpec(handler, target, **{**defaults, **_options(doc, path, spec, what)})


def _target(doc: Document, path: Path, handler: str, target: Raw, what: str) -> str:
    if handler == COMMAND:
        return encode_argv(_argv(doc, path, target, what))
    if target.__class__ is not str or not target.strip():
        raise StackSyntaxError(
            f"{handler} handler of {what} must be a non-empty string, got {target!r}",
            location=doc.at(path),
        )
    if handler == "python" and not _PYTHON_TARGET.fullmatch(target):
        raise StackSyntaxError(
            f"python handler of {what} must be 'module:function', got {target!r}",
            location=doc.at(path),
        )
    return target


def _argv(doc: Document, path: Path, argv: Raw, what: str) -> list[str]:
    """A ``command`` handler's argv: a non-empty list of strings, the first not blank."""
    if argv.__class__ is not list or not argv:
        raise StackSyntaxError(
            f"command handler of {what} must be a non-empty list of strings (the argv), "
            f"got {kind_of(argv)} {argv!r}",
            location=doc.at(path),
        )
    for index, arg in enumerate(argv):
        if arg.__class__ is not str:
            raise StackSyntaxError(
                f"argument {index + 1} of the command handler of {what} must be a string, "
                f"got {kind_of(arg)} {arg!r} (quote it in YAML)",
                location=doc.at((*path, index)),
            )
    if not argv[0].strip():
        raise StackSyntaxError(
            f"command handler of {what} must start with a program, got {argv[0]!r}",
            location=doc.at((*path, 0)),
        )
    return list(argv)


def _options(doc: Document, path: Path, spec: dict[str, Raw], what: str) -> dict[str, Raw]:
    """The action options (timeout, retries, retry_delay) given in ``spec``, checked."""
    options = {}
    for key in _OPTIONS:
        if key not in spec:
            continue
        check, wanted, convert = _OPTIONS[key]
        value = spec[key]
        if not check(value):
            raise StackSyntaxError(
                f"{key} of {what} must be {wanted}, got {kind_of(value)} {value!r}",
                location=doc.at((*path, key)),
            )
        options[key] = convert(value)
    return options


def _migrations(doc: Document, path: Path, raw: Raw, what: str) -> tuple[dict[str, JSON], ...]:
    """Migration steps kept as data; only their ``from`` and ``to`` versions are checked."""
    if raw is None:
        return ()
    if raw.__class__ is not list:
        raise StackSyntaxError(
            f"migrations of {what} must be a list, got {kind_of(raw)}", location=doc.at(path)
        )
    return tuple(_migration(doc, (*path, i), step, what) for i, step in enumerate(raw))


def _migration(doc: Document, path: Path, raw: Raw, type_what: str) -> dict[str, JSON]:
    what = f"migration step {path[-1] + 1} of {type_what}"
    step = mapping(doc, path, raw, what)
    for end in ("from", "to"):
        if end not in step:
            raise StackSyntaxError(f"{what} has no {end!r} version", location=doc.at(path))
        if step[end].__class__ is not int:
            raise StackSyntaxError(
                f"{end!r} of {what} must be an integer, got {kind_of(step[end])} {step[end]!r}",
                location=doc.at((*path, end)),
            )
    data = plain_json(doc, path, step)
    assert isinstance(data, dict)  # step was checked to be a mapping above
    return data
