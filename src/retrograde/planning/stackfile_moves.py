"""A stack file's ``moved:``: renames of resources, ``[{from: OLD, to: NEW}, ...]``.

Only the shape is checked here (a list of mappings with exactly ``from`` and
``to``, both resource names, no name moved twice); what each entry means for
committed state is decided at staging (:func:`retrograde.planning.moves.stack_moves`).
"""

from __future__ import annotations

from retrograde.errors import StackSyntaxError
from retrograde.model.jsonvalue import Raw
from retrograde.planning.moves import Move
from retrograde.planning.stackfile_values import RESOURCE_NAME, check_keys, kind_of, mapping
from retrograde.planning.stackfile_yaml import Document

MOVE_KEYS = frozenset({"from", "to"})


def parse_moves(doc: Document, raw: Raw) -> tuple[Move, ...]:
    """The entries of ``moved:`` in file order (none when it is absent)."""
    if raw is None:
        return ()
    if raw.__class__ is not list:
        raise StackSyntaxError(
            f"moved must be a list of {{from: OLD, to: NEW}}, got {kind_of(raw)}",
            location=doc.at(("moved",)),
        )
    moves: list[Move] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        path = ("moved", index)
        what = f"moved entry {index + 1}"
        fields = mapping(doc, path, entry, what)
        check_keys(doc, path, fields, MOVE_KEYS, what)
        old, new = (_name(doc, (*path, key), fields.get(key), what, key) for key in ("from", "to"))
        if old == new or old in seen:
            problem = "moves a resource onto itself" if old == new else f"moves {old!r} again"
            raise StackSyntaxError(f"{what} {problem}", location=doc.at(path))
        seen.add(old)
        moves.append(Move(old, new))
    return tuple(moves)


def _name(doc: Document, path: tuple[Raw, ...], value: Raw, what: str, key: str) -> str:
    if value.__class__ is not str or not RESOURCE_NAME.fullmatch(value):
        raise StackSyntaxError(
            f"{what} needs {key}: a resource name, got {kind_of(value)} {value!r}",
            location=doc.at(path if value is not None else path[:-1]),
        )
    return value
