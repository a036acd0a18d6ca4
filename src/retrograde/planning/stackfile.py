"""Read a stack file (docs/stack-file.md) into checked values: its types and its resources.

A stack file can hold 100,000 resources, so checking it is split into a fast
path and a slow path:

* Fast path. The text is parsed straight to plain data (dicts, lists,
  scalars) with libyaml (:mod:`~retrograde.planning.stackfile_yaml`), with no
  positions attached. Every check then walks that data once, in linear passes,
  carrying the *path* of the value it looks at (``("resources", "web",
  "inputs", "port")``) only as far as needed to name it. A valid file never
  pays for positions.
* Slow path. When a check fails, the document is composed again into YAML
  nodes and the failing path is looked up there to get its line and column.
  This happens at most once per parse, because the first problem found is the
  one reported, as one error from :mod:`retrograde.errors` located at
  ``source:line:col``.

The checks live by subject: values and shapes in ``stackfile_values``, types
in ``stackfile_types``, resources and connections in ``stackfile_resources``,
``vars:`` in ``stackfile_vars``, ``outputs:`` in ``stack_outputs``; this
module handles the top level and includes.

Includes are read in two passes: the first walks every file and gathers the
types (all of them, so that a resource may use a type from any file), the
second reads each file's resources in the order the files were reached
(included files before the file that includes them). An include written
``{file: F, prefix: P}`` puts F's resources under the prefix, so one file can
be used twice; see :class:`~retrograde.planning.stackfile_resources.Scope`. Nothing here touches the
filesystem: included files are read through the ``read_file`` callable, which
decides what may be included (it raises :class:`~retrograde.errors.IncludeError`
to refuse a file; the refusal is then located at the include entry).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace

from retrograde.errors import IncludeError, StackError, StackSyntaxError
from retrograde.memory import gc_paused
from retrograde.model.jsonvalue import Raw
from retrograde.model.outputs import OutputDef
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType
from retrograde.planning.moves import Move
from retrograde.planning.stack_outputs import parse_outputs
from retrograde.planning.stackfile_moves import parse_moves
from retrograde.planning.stackfile_resources import Resources, Scope
from retrograde.planning.stackfile_types import parse_type
from retrograde.planning.stackfile_values import check_keys, kind_of, mapping
from retrograde.planning.stackfile_vars import Vars, VarSources, parse_vars
from retrograde.planning.stackfile_yaml import Document, Path, load_document

__all__ = ["Stack", "VarSources", "parse_stack"]

STACK_KEYS = frozenset({"include", "types", "resources", "route_by", "moved", "vars", "outputs"})
INCLUDED_KEYS = frozenset({"include", "types", "resources"})
INCLUDE_KEYS = frozenset({"file", "prefix"})
INCLUDE_PREFIX = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
"""A prefix for an included file's resources: a resource name's characters (at most 100)."""

ReadFile = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Stack:
    """A checked stack file: the types it defines or includes, its resources and outputs."""

    source: str
    """The file name as given, used in error locations."""
    types: dict[str, ResourceType]
    """By type name, included files' types first."""
    resources: dict[str, ResourceState]
    """By resource name, included files' first, in file order; every declared input has a
    value."""
    outputs: dict[str, OutputDef] = field(default_factory=dict)
    """By output name, in file order."""
    moved: tuple[Move, ...] = ()
    """The renames of ``moved:``, in file order."""


def parse_stack(
    text: str,
    *,
    source: str,
    base_dir: str,
    read_file: ReadFile | None = None,
    vars: VarSources | None = None,
) -> Stack:
    """Parse and check a stack file; raise one :class:`StackError` for the first problem.

    ``base_dir`` is the stack file's directory: shell commands of every type
    run there, and includes are relative to it. ``read_file(path)`` returns an
    included file's text or raises :class:`IncludeError` to refuse it; without
    it, a file that includes others is an error. ``vars`` holds the values
    given for the stack's ``vars:`` from outside (none by default).
    """
    with gc_paused():
        doc = load_document(text, source)
        data = _top_level(doc, STACK_KEYS, "a stack file")
        own_path = posixpath.normpath(posixpath.join(base_dir, posixpath.basename(source)))
        route_by = _route_by(doc, data.get("route_by"))
        params = parse_vars(doc, data.get("vars"), vars or VarSources())
        files = _Files(base_dir or ".", read_file, route_by, params)
        files.add(doc, data, base_dir, (own_path,), _scope(doc, data, "", None))
        resources = files.resources()
        outputs = parse_outputs(doc, data.get("outputs"), resources, files.types, params)
        params.check_unused()
        moves = parse_moves(doc, data.get("moved"))
    return Stack(
        source=source, types=files.types, resources=resources, outputs=outputs, moved=moves
    )


def _top_level(doc: Document, allowed: AbstractSet[str], what: str) -> dict[str, Raw]:
    data = mapping(doc, (), doc.data, f"the top level of {what}")
    check_keys(doc, (), data, allowed, what)
    return data


def _scope(doc: Document, data: dict[str, Raw], prefix: str, outer: Scope | None) -> Scope:
    """The scope of a file: what its resource names become, and what it defines."""
    names = mapping(doc, ("resources",), data.get("resources"), "resources")
    return Scope(prefix, frozenset(n for n in names if n.__class__ is str), outer)


@dataclass(frozen=True, slots=True)
class _Include:
    """One entry of ``include:``: a file, and the prefix for its resources ("" for none)."""

    file: str
    prefix: str


class _Files:
    """The stack file and every file it includes: their types, each defined once (or the
    same way everywhere), and where their resources are to be read from."""

    def __init__(
        self, base_dir: str, read_file: ReadFile | None, route_by: str | None, params: Vars
    ) -> None:
        self.types: dict[str, ResourceType] = {}
        self._base_dir = base_dir
        self._route_by = route_by
        self._read_file = read_file
        self._vars = params
        self._defined_in: dict[str, tuple[Document, ResourceType]] = {}
        """Each type's first file, and its definition without the file it is in."""
        self._loaded: set[tuple[str, str]] = set()
        self._resources: list[tuple[Document, Raw, Scope]] = []

    def add(
        self,
        doc: Document,
        data: dict[str, Raw],
        directory: str,
        chain: tuple[str, ...],
        scope: Scope,
    ) -> None:
        """Add what ``doc`` includes, then its own types; remember its resources for later.
        ``chain``: the files including it."""
        for index, entry in enumerate(_include_entries(doc, data.get("include"))):
            self._include(doc, ("include", index), entry, directory, chain, scope)
        defined_in = self._relative(chain[-1]) if len(chain) > 1 else None
        for name, raw in mapping(doc, ("types",), data.get("types"), "types").items():
            self._define(doc, name, raw, defined_in)
        if data.get("resources") is not None:
            self._resources.append((doc, data["resources"], scope))

    def resources(self) -> dict[str, ResourceState]:
        """Every file's resources, read against all the types, then checked together."""
        found = Resources()
        for doc, raw, scope in self._resources:
            found.read(doc, raw, self.types, vars=self._vars, scope=scope)
        return found.checked(self.types)

    def _relative(self, included: str) -> str | None:
        """An included file's path under the stack's directory; None for one outside it."""
        relative = posixpath.relpath(included, self._base_dir)
        return None if relative.startswith("../") or relative == ".." else relative

    def _include(
        self,
        doc: Document,
        path: Path,
        entry: _Include,
        directory: str,
        chain: tuple[str, ...],
        scope: Scope,
    ) -> None:
        target = posixpath.normpath(posixpath.join(directory, entry.file))
        if target in chain:
            cycle = " -> ".join([*chain[chain.index(target) :], target])
            raise StackError(f"include cycle: {cycle}", location=doc.at(path))
        prefix = scope.prefix + entry.prefix
        if (target, prefix) in self._loaded:
            return  # included twice (with the same prefix) along different paths: it counts once
        self._loaded.add((target, prefix))
        included = load_document(self._read(doc, path, entry.file, target), target)
        data = _top_level(included, INCLUDED_KEYS, "an included file")
        inner = _scope(included, data, prefix, scope)
        self.add(included, data, posixpath.dirname(target), (*chain, target), inner)

    def _read(self, doc: Document, path: Path, entry: str, target: str) -> str:
        """The text of an included file; a refusal from the reader is located at the entry."""
        if self._read_file is None:
            raise StackError(
                f"cannot include {target!r}: no file reader was given", location=doc.at(path)
            )
        try:
            return self._read_file(target)
        except IncludeError as exc:
            raise IncludeError(entry, exc.reason, location=doc.at(path)) from None
        except (OSError, UnicodeError) as exc:
            reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
            raise StackError(
                f"cannot read included file {target!r}: {reason}", location=doc.at(path)
            ) from exc

    def _define(self, doc: Document, name: Raw, raw: Raw, defined_in: str | None) -> None:
        path = ("types", name)
        rtype = parse_type(doc, name, raw, self._base_dir, defined_in=defined_in, vars=self._vars)
        if self._route_by:
            rtype = replace(rtype, route_by=self._route_by)
        definition = replace(rtype, files=rtype.files[1:] if defined_in else rtype.files)
        first = self._defined_in.get(name)
        if first is not None:
            first_doc, first_definition = first
            if first_definition == definition:
                return  # the same type from two files: one type
            raise StackError(
                f"type {name!r} is defined differently in {first_doc.source} and {doc.source}"
                f" (first at {first_doc.at(path, key=True)})",
                location=doc.at(path, key=True),
            )
        self.types[name] = rtype
        self._defined_in[name] = (doc, definition)


def _route_by(doc: Document, raw: Raw) -> str | None:
    """The stack's ``route_by:``: the tag whose value names each resource's queue."""
    if raw is None:
        return None
    if raw.__class__ is not str or not raw:
        raise StackSyntaxError(
            f"route_by must be a tag name, got {kind_of(raw)} {raw!r}",
            location=doc.at(("route_by",)),
        )
    return raw


def _include_entries(doc: Document, raw: Raw) -> list[_Include]:
    if raw is None:
        return []
    if raw.__class__ is not list:
        raise StackSyntaxError(
            f"include must be a list of file paths, got {kind_of(raw)}",
            location=doc.at(("include",)),
        )
    return [_include_entry(doc, ("include", index), entry) for index, entry in enumerate(raw)]


def _include_entry(doc: Document, path: Path, entry: Raw) -> _Include:
    """A path, or ``{file: PATH, prefix: P}``."""
    if entry.__class__ is dict:
        check_keys(doc, path, entry, INCLUDE_KEYS, "an include entry")
        file, prefix = entry.get("file"), entry.get("prefix", "")
        if prefix.__class__ is not str or (prefix and not INCLUDE_PREFIX.fullmatch(prefix)):
            raise StackSyntaxError(
                f"an include prefix must match {INCLUDE_PREFIX.pattern}, got {prefix!r}",
                location=doc.at((*path, "prefix")),
            )
        path = (*path, "file")
    else:
        file, prefix = entry, ""
    if file.__class__ is not str or not file:
        raise StackSyntaxError(
            f"an include entry must be a file path, got {kind_of(file)} {file!r}",
            location=doc.at(path),
        )
    return _Include(file, prefix)
