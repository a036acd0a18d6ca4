"""A stack file's ``vars:``: typed parameters given from outside, used as ``${var.NAME}``.

Values come, highest precedence first, from ``--var NAME=VALUE``, from var
files (``--var-file``, later files winning), from the environment
(``RETROGRADE_VAR_<NAME>``) and from the declared ``default``. The command
layer reads files and the environment and hands their text in as
:class:`VarSources`; nothing here does I/O.

A value is data wherever it lands: substituted after the text around it has
been read, it is never read again, so a value holding ``${other.x}`` or shell
syntax stays those characters. A ``secret: true`` var may only land in a
secret input (as a secret resource input would only flow into a secret one),
so it is masked wherever inputs are masked.

Problems with a value (none given, wrong type) are reported where the var is
first used, or at its declaration when it is never used; an unknown name given
from outside is refused at once.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from retrograde.errors import StackSyntaxError, VarError
from retrograde.model.jsonvalue import JSON, Raw
from retrograde.model.secrets import MASK
from retrograde.model.types import InputKind
from retrograde.planning.stackfile_values import (
    WHOLE_VAR,
    check_keys,
    check_name,
    kind_of,
    literal,
    mapping,
)
from retrograde.planning.stackfile_yaml import Document, Path, load_document

VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VAR_KEYS = frozenset({"type", "default", "secret"})
VAR_IN_TEXT = re.compile(r"(?<!\$)\$\{var\.([A-Za-z_][A-Za-z0-9_]*)\}")
"""A var reference inside text (``$${var.x}`` is the literal text ``${var.x}``)."""
ENV_PREFIX = "RETROGRADE_VAR_"


@dataclass(frozen=True, slots=True)
class VarSources:
    """What was given for a stack's vars from outside the stack file, as text.

    ``flags``: each ``--var NAME=VALUE`` in order (a name given twice: the last
    wins); ``files``: each var file as ``(name, text)`` in order (later files
    win); ``environment``: ``NAME -> text`` from ``RETROGRADE_VAR_<NAME>``.
    """

    flags: Sequence[tuple[str, str]] = ()
    files: Sequence[tuple[str, str]] = ()
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VarSpec:
    """One declared var: its kind, whether it is secret, where it is declared."""

    name: str
    kind: InputKind
    secret: bool
    declared_at: Document


@dataclass(slots=True)
class _Given:
    """A var's resolved value, or the problem that keeps it from having one."""

    value: JSON = None
    problem: str | None = None


class Vars:
    """The stack's vars with their values; substitutes ``${var.NAME}`` in values."""

    def __init__(self, specs: Mapping[str, VarSpec], given: Mapping[str, _Given]) -> None:
        self._specs = specs
        self._given = given
        self._used: set[str] = set()

    def is_secret(self, name: str) -> bool:
        spec = self._specs.get(name)
        return spec is not None and spec.secret

    def value(self, doc: Document, path: Path, name: str) -> JSON:
        """The value of var ``name`` used at ``path`` of ``doc`` (a fresh copy)."""
        spec = self._specs.get(name)
        if spec is None:
            declared = ", ".join(self._specs) or "no vars"
            problem = f"unknown var {name!r} (the stack declares: {declared})"
            raise VarError(name, problem, location=doc.at(path))
        self._used.add(name)
        given = self._given[name]
        if given.problem is not None:
            raise VarError(name, given.problem, location=doc.at(path))
        return copy.deepcopy(given.value)

    def check_unused(self) -> None:
        """Refuse a var that is never used but has no usable value (at its declaration)."""
        for name, given in self._given.items():
            if given.problem is not None and name not in self._used:
                doc = self._specs[name].declared_at
                raise VarError(name, given.problem, location=doc.at(("vars", name), key=True))

    def substitute(self, doc: Document, path: Path, text: str, *, into_secret: bool) -> JSON:
        """``text`` with its var references replaced; the rest read as :func:`literal` reads
        text (``$${`` unescaped). A whole-value reference gives the var's value itself.

        ``into_secret`` says whether the value lands in a secret input; a secret var may
        land nowhere else.
        """
        whole = WHOLE_VAR.fullmatch(text)
        if whole:
            return self.use(doc, path, whole.group(1), into_secret)
        pieces: list[str] = []
        start = 0
        for match in VAR_IN_TEXT.finditer(text):
            pieces.append(_plain_text(doc, path, text[start : match.start()]))
            pieces.append(self.text(doc, path, match.group(1), into_secret))
            start = match.end()
        pieces.append(_plain_text(doc, path, text[start:]))
        return "".join(pieces)

    def use(self, doc: Document, path: Path, name: str, into_secret: bool) -> JSON:
        """The value of var ``name`` as a whole value at ``path``."""
        value = self.value(doc, path, name)
        if self.is_secret(name) and not into_secret:
            raise VarError(
                name,
                f"secret var {name!r} is used in {_where(path)}, which is not secret;"
                " declare that input secret: true in its type",
                location=doc.at(path),
            )
        return value

    def text(self, doc: Document, path: Path, name: str, into_secret: bool) -> str:
        """The value of var ``name`` as part of a text at ``path`` (a scalar, as text)."""
        value = self.use(doc, path, name, into_secret)
        if value.__class__ is str:
            assert isinstance(value, str)
            return value
        if value is None or isinstance(value, list | dict):
            raise VarError(
                name,
                f"var {name!r} is {_kind_word(value)}: it can be a whole value,"
                " but not part of a text",
                location=doc.at(path),
            )
        return "true" if value is True else "false" if value is False else str(value)


def _plain_text(doc: Document, path: Path, text: str) -> str:
    """Text between var references: ``$${`` unescaped; any other ``${`` is refused."""
    if re.search(r"(?<!\$)\$\{", text):
        raise StackSyntaxError(
            f"a connection cannot be part of a text (in {_where(path)}); only ${{var.NAME}} can;"
            " write $${ for a literal ${",
            location=doc.at(path),
        )
    return text.replace("$${", "${")


def _where(path: Path) -> str:
    """``web.port`` for a resource input, else the dotted path."""
    if len(path) >= 4 and path[0] == "resources" and path[2] == "inputs":
        return f"input {path[1]}.{path[3]}"
    return ".".join(str(step) for step in path)


def _kind_word(value: JSON) -> str:
    if value is None:
        return "null"
    return "a list" if isinstance(value, list) else "an object"


# -- declarations and values ------------------------------------------------------------


def parse_vars(doc: Document, raw: Raw, sources: VarSources) -> Vars:
    """The ``vars:`` of the stack file ``doc``, with their values from ``sources``."""
    declared = mapping(doc, ("vars",), raw, "vars")
    specs: dict[str, VarSpec] = {}
    defaults: dict[str, JSON] = {}
    for name, spec_raw in declared.items():
        path = ("vars", name)
        check_name(doc, path, name, VAR_NAME, "var")
        what = f"var {name!r}"
        spec = mapping(doc, path, spec_raw, what)
        check_keys(doc, path, spec, VAR_KEYS, what)
        secret = spec.get("secret", False)
        if secret.__class__ is not bool:
            raise StackSyntaxError(
                f"secret of {what} must be true or false, got {secret!r}",
                location=doc.at((*path, "secret")),
            )
        specs[name] = VarSpec(name, _kind(doc, path, spec.get("type", "any")), secret, doc)
        if "default" in spec:
            defaults[name] = literal(doc, (*path, "default"), spec["default"], secret=secret)
    files = [load_var_file(source, text) for source, text in sources.files]
    _refuse_unknown(doc.source, specs, sources.flags, files)
    given = {name: _resolve(specs[name], sources, files, defaults) for name in specs}
    return Vars(specs, given)


def _kind(doc: Document, path: Path, raw: Raw) -> InputKind:
    names = {kind.value for kind in InputKind}
    if raw.__class__ is not str or raw not in names:
        raise StackSyntaxError(
            f"unknown type {raw!r} for var {path[-1]!r}; expected one of: "
            + ", ".join(kind.value for kind in InputKind),
            location=doc.at((*path, "type")),
        )
    return InputKind(raw)


def _resolve(
    spec: VarSpec,
    sources: VarSources,
    files: Sequence[tuple[Document, dict[str, Raw]]],
    defaults: Mapping[str, JSON],
) -> _Given:
    """The value of one var from the highest-precedence place that gives it."""
    name = spec.name
    flag = next((text for key, text in reversed(sources.flags) if key == name), None)
    if flag is not None:
        return _typed(spec, _from_text(spec, flag, f"--var {name}"), f"--var {name}=...")
    for var_file, values in reversed(files):
        if name in values:
            return _typed(spec, values[name], f"var file {var_file.source}")
    if name in sources.environment:
        env = f"{ENV_PREFIX}{name}"
        return _typed(spec, _from_text(spec, sources.environment[name], env), env)
    if name in defaults:
        return _Given(defaults[name])
    return _Given(
        problem=f"var {name!r} has no value: give --var {name}=VALUE, a --var-file"
        f" or {ENV_PREFIX}{name}"
    )


def _from_text(spec: VarSpec, text: str, source: str) -> Raw:
    """A value given as text: as it is for a string var, else read as YAML (``[1, 2]``)."""
    if spec.kind is InputKind.STRING:
        return text
    try:
        return load_document(text, source).data
    except StackSyntaxError:
        if spec.secret:
            raise StackSyntaxError(f"cannot read the value of secret var {spec.name!r}") from None
        raise


def _typed(spec: VarSpec, value: Raw, source: str) -> _Given:
    if not _is_json(value) or not spec.kind.accepts(value):
        shown = MASK if spec.secret else _short(repr(value))
        return _Given(
            problem=f"var {spec.name!r} must be {spec.kind.value}, got {kind_of(value)} {shown}"
            f" (from {source})"
        )
    return _Given(value)


def _short(text: str) -> str:
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text)} characters)"


def _is_json(value: Raw) -> bool:
    """Whether a value from outside is JSON (string keys all the way down)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            if not all(key.__class__ is str for key in item):
                return False
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, float) and item != item:  # NaN is no JSON number
            return False
    return True


def load_var_file(source: str, text: str) -> tuple[Document, dict[str, Raw]]:
    """A var file and its values: a YAML mapping of var names to values (empty: none)."""
    doc = load_document(text, source)
    if doc.data is None:
        return doc, {}
    if doc.data.__class__ is not dict:
        raise StackSyntaxError(
            f"a var file must be a mapping of var names to values, got {kind_of(doc.data)}",
            location=doc.at(()),
        )
    return doc, dict(doc.data)


def _refuse_unknown(
    stack: str,
    specs: Mapping[str, VarSpec],
    flags: Sequence[tuple[str, str]],
    files: Sequence[tuple[Document, dict[str, Raw]]],
) -> None:
    """A name given from outside that the stack does not declare is an error."""
    declared = ", ".join(specs) or "no vars"
    for name, _ in flags:
        if name not in specs:
            raise VarError(
                name, f"--var {name}: {stack} declares no var {name!r} (it declares: {declared})"
            )
    for doc, values in files:
        for name in values:
            if name not in specs:
                raise VarError(
                    str(name),
                    f"{stack} declares no var {name!r} (it declares: {declared})",
                    location=doc.at((name,), key=True),
                )
