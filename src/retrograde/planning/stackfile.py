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
in ``stackfile_types``, resources and connections in ``stackfile_resources``;
this module handles the top level and includes. Nothing here touches the
filesystem: included files are read through the ``read_file`` callable, which
decides what may be included (it raises :class:`~retrograde.errors.IncludeError`
to refuse a file; the refusal is then located at the include entry).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

from retrograde.errors import IncludeError, StackError, StackSyntaxError
from retrograde.memory import gc_paused
from retrograde.model.jsonvalue import Raw
from retrograde.model.state import ResourceState
from retrograde.model.types import ResourceType
from retrograde.planning.moves import Move
from retrograde.planning.stackfile_moves import parse_moves
from retrograde.planning.stackfile_resources import parse_resources
from retrograde.planning.stackfile_types import parse_type
from retrograde.planning.stackfile_values import check_keys, kind_of, mapping
from retrograde.planning.stackfile_yaml import Document, Path, load_document

__all__ = ["Stack", "parse_stack"]

STACK_KEYS = frozenset({"include", "types", "resources", "route_by", "moved"})
INCLUDED_KEYS = frozenset({"include", "types"})

ReadFile = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Stack:
    """A checked stack file: the types it defines or includes and its resources."""

    source: str
    """The file name as given, used in error locations."""
    types: dict[str, ResourceType]
    """By type name, included files' types first."""
    resources: dict[str, ResourceState]
    """By resource name, in file order; every declared input has a value."""
    moved: tuple[Move, ...] = ()
    """The renames of ``moved:``, in file order."""


def parse_stack(
    text: str, *, source: str, base_dir: str, read_file: ReadFile | None = None
) -> Stack:
    """Parse and check a stack file; raise one :class:`StackError` for the first problem.

    ``base_dir`` is the stack file's directory: shell commands of every type
    run there, and includes are relative to it. ``read_file(path)`` returns an
    included file's text or raises :class:`IncludeError` to refuse it; without
    it, a file that includes others is an error.
    """
    with gc_paused():
        doc = load_document(text, source)
        data = _top_level(doc, STACK_KEYS, "a stack file")
        own_path = posixpath.normpath(posixpath.join(base_dir, posixpath.basename(source)))
        route_by = _route_by(doc, data.get("route_by"))
        types = _Types(base_dir or ".", read_file, route_by)
        types.add(doc, data, base_dir, (own_path,))
        resources = parse_resources(doc, data.get("resources"), types.types)
        moves = parse_moves(doc, data.get("moved"))
    return Stack(source=source, types=types.types, resources=resources, moved=moves)


def _top_level(doc: Document, allowed: AbstractSet[str], what: str) -> dict[str, Raw]:
    data = mapping(doc, (), doc.data, f"the top level of {what}")
    check_keys(doc, (), data, allowed, what)
    return data


class _Types:
    """The types of a stack file and of every file it includes, each defined once."""

    def __init__(self, base_dir: str, read_file: ReadFile | None, route_by: str | None) -> None:
        self.types: dict[str, ResourceType] = {}
        self._base_dir = base_dir
        self._route_by = route_by
        self._read_file = read_file
        self._defined_in: dict[str, Document] = {}
        self._loaded: set[str] = set()

    def add(
        self, doc: Document, data: dict[str, Raw], directory: str, chain: tuple[str, ...]
    ) -> None:
        """Add the types ``doc`` includes, then its own. ``chain``: the files including it."""
        for index, entry in enumerate(_include_entries(doc, data.get("include"))):
            self._include(doc, ("include", index), entry, directory, chain)
        defined_in = self._relative(chain[-1]) if len(chain) > 1 else None
        for name, raw in mapping(doc, ("types",), data.get("types"), "types").items():
            self._define(doc, name, raw, defined_in)

    def _relative(self, included: str) -> str | None:
        """An included file's path under the stack's directory; None for one outside it."""
        relative = posixpath.relpath(included, self._base_dir)
        return None if relative.startswith("../") or relative == ".." else relative

    def _include(
        self, doc: Document, path: Path, entry: str, directory: str, chain: tuple[str, ...]
    ) -> None:
        target = posixpath.normpath(posixpath.join(directory, entry))
        if target in chain:
            cycle = " -> ".join([*chain[chain.index(target) :], target])
            raise StackError(f"include cycle: {cycle}", location=doc.at(path))
        if target in self._loaded:
            return  # included twice along different paths: its types count once
        self._loaded.add(target)
        included = load_document(self._read(doc, path, entry, target), target)
        data = _top_level(included, INCLUDED_KEYS, "an included file")
        self.add(included, data, posixpath.dirname(target), (*chain, target))

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
        first = self._defined_in.get(name)
        if first is not None:
            raise StackError(
                f"type {name!r} is defined twice (first at {first.at(path, key=True)})",
                location=doc.at(path, key=True),
            )
        rtype = parse_type(doc, name, raw, self._base_dir, defined_in=defined_in)
        self.types[name] = replace(rtype, route_by=self._route_by) if self._route_by else rtype
        self._defined_in[name] = doc


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


def _include_entries(doc: Document, raw: Raw) -> list[str]:
    if raw is None:
        return []
    if raw.__class__ is not list:
        raise StackSyntaxError(
            f"include must be a list of file paths, got {kind_of(raw)}",
            location=doc.at(("include",)),
        )
    for index, entry in enumerate(raw):
        if entry.__class__ is not str or not entry:
            raise StackSyntaxError(
                f"an include entry must be a file path, got {kind_of(entry)} {entry!r}",
                location=doc.at(("include", index)),
            )
    return raw
