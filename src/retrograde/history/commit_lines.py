"""An export's commit line as the body its hash covers, its fields checked.

A commit line holds every field of the commit's body (what the hash covers)
plus ``hash``. Every line an export writes holds them in exactly the form
``Commit.body()`` gives, so the line's fields are the body as they are, and
import hashes, replays and stores them without building a :class:`Commit`
(a million lines). A line in any other form (a field missing that has a
default, a number of another kind, connections with keys of their own) is
read as it always was: through ``Commit.from_json``, whose body is what
such a line's hash must cover.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from retrograde.model.change import ActionName, reverse_diff
from retrograde.model.commit import Commit, CommitBody
from retrograde.model.jsonvalue import same_json

_FIELDS = frozenset(
    (
        "rev",
        "apply_id",
        "resource",
        "action",
        "diff",
        "reverse",
        "connections",
        "tags",
        "type",
        "version",
        "principal",
        "timestamp",
        "message",
        "reverts",
    )
)
"""A commit line's fields besides ``hash`` (and a move's ``from``)."""

_MOVE_FIELDS = _FIELDS | {"from"}
_ACTIONS = frozenset(action.value for action in ActionName)
_SIDES = ["before", "after"]
_SIDES_AND_CONSUMERS = ["before", "after", "consumers"]


def line_body(fields: dict[str, Any]) -> tuple[CommitBody, str]:
    """``(body, hash)`` of a commit line's ``fields`` (which lose ``hash``), the body's
    fields checked to be of the kinds the store keeps (a hash can be forged): TypeError or
    ValueError when not, or when the line is not a commit's."""
    hash_ = fields.pop("hash", "")
    if _in_body_form(fields):
        body = cast(CommitBody, fields)
        _check_body(body)
        return body, hash_
    commit = Commit.from_json(fields)
    _check_commit(commit)
    return commit.body(), hash_


def reverses(body: CommitBody) -> bool:
    """Whether the body's ``reverse`` is the reverse of its ``diff``."""
    return same_json(body["reverse"], reverse_diff(body["diff"]))


def check_integer(value: object, what: str) -> None:
    """``value`` must be an integer a store column holds (64 bits, signed)."""
    if type(value) is not int:
        raise TypeError(f"{what} must be an integer")
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"{what} is beyond 64 bits")


def _in_body_form(fields: dict[str, Any]) -> bool:
    """Whether ``Commit.from_json(fields).body()`` would give ``fields`` back as they are
    (keys of ``connections`` and ``tags`` in their order, which the stored form keeps)."""
    keys = fields.keys()
    if keys != _FIELDS and not (keys == _MOVE_FIELDS and type(fields["from"]) is str):
        return False
    action, connections, tags = fields["action"], fields["connections"], fields["tags"]
    if not (
        type(fields["rev"]) is int
        and type(fields["version"]) is int
        and type(fields["reverts"]) is list
        and type(action) is str
        and action in _ACTIONS
        and type(connections) is dict
        and type(tags) is dict
        and list(tags) == _SIDES
    ):
        return False
    order = list(connections)
    if order == _SIDES_AND_CONSUMERS:
        consumers = connections["consumers"]
        if not (type(consumers) is dict and consumers):
            return False
        if not all(type(slots) is dict for slots in consumers.values()):
            return False
    elif order != _SIDES:
        return False
    for side in (connections["before"], connections["after"], tags["before"], tags["after"]):
        if side is not None and type(side) is not dict:
            return False
    return True


def _check_commit(commit: Commit) -> None:
    """The fields of a commit line read through ``Commit.from_json``."""
    texts = (commit.resource, commit.type, commit.principal, commit.timestamp, commit.message)
    numbers = (commit.rev, commit.version, *commit.reverts)
    _check_values(texts, numbers, commit.apply_id, commit.diff, commit.reverse)
    sides = (commit.connections.before, commit.connections.after, commit.tags.before)
    if not all(side is None or type(side) is dict for side in (*sides, commit.tags.after)):
        raise TypeError("connections and tags must hold objects before and after")
    if type(commit.consumers) is not dict:
        raise TypeError("consumers must be an object")
    _check_entries(commit.diff)


def _check_body(body: CommitBody) -> None:
    """The fields of a commit line in body form (its connections and tags are checked)."""
    texts = (body["resource"], body["type"], body["principal"], body["timestamp"], body["message"])
    numbers = (body["rev"], body["version"], *body["reverts"])
    _check_values(texts, numbers, body["apply_id"], body["diff"], body["reverse"])
    _check_entries(body["diff"])


def _check_values(
    texts: tuple[object, ...], numbers: tuple[object, ...], apply_id: object, *diffs: object
) -> None:
    # loops rather than all(...): this runs for every line of an import
    for text in texts:
        if type(text) is not str:
            raise TypeError("resource, type, principal, timestamp and message must be text")
    for number in numbers:
        if type(number) is not int or not _LOWEST <= number <= _HIGHEST:
            check_integer(number, "rev, version and reverts")
    if apply_id is not None:
        check_integer(apply_id, "apply_id")
    for diff in diffs:
        if type(diff) is not dict:
            raise TypeError("diff and reverse must be objects")


def _check_entries(diff: Mapping[str, object]) -> None:
    for entry in diff.values():
        if type(entry) is not dict:
            raise TypeError("each diff entry must be an object")


_LOWEST, _HIGHEST = -(2**63), 2**63 - 1
