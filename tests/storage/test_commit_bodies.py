"""A commit's body read from its row or its export line, without a Commit, is the Commit's."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from retrograde.history import lines
from retrograde.history.commit_lines import line_body
from retrograde.model.change import ActionName, reverse_diff
from retrograde.model.commit import GENESIS_HASH, Commit, Sides, commit_hash
from retrograde.storage.sql import rows
from retrograde.storage.sql.commit_bodies import body_from_tuple, body_row


def _commit(**fields: object) -> Commit:
    diff = fields.pop("diff", {"ip": {"from": "10.0.0.1", "to": "10.0.0.2"}})
    base = {
        "rev": 7,
        "apply_id": 3,
        "resource": "web",
        "action": ActionName.UPDATE,
        "diff": diff,
        "reverse": reverse_diff(diff),  # type: ignore[arg-type]
        "connections": Sides({"ip": "db.ip"}, {"ip": "db.ip"}),
        "type": "service",
        "version": 2,
        "principal": "alice",
        "timestamp": "2026-01-02T03:04:05.000006Z",
        "message": "roll out",
        **fields,
    }
    unsigned = Commit(**base)  # type: ignore[arg-type]
    return dataclasses.replace(unsigned, hash=commit_hash(unsigned.body(), GENESIS_HASH))


COMMITS = [
    _commit(),
    _commit(
        action=ActionName.RUN,
        connections=Sides(None, {"backends": ["a.ip", None]}),
        tags=Sides(None, {"node": "n1", "rack": "r0"}),
        diff={
            "backends": {"from": None, "to": ["10.0.0.1", "x"]},
            "ratio": {"from": None, "to": 0.5},
        },
    ),
    _commit(
        diff={"old": {"from": 1, "to": None, "absent": "to"}, "new": {"from": None, "to": True}},
        reverts=(4, 5),
        tags=Sides({"a": "1"}, {"a": "2"}),
    ),
    _commit(
        action=ActionName.REMOVE,
        connections=Sides({"ip": "db.ip"}, None),
        consumers={"lb": {"backends": ["web.ip", None]}},
        diff={"ip": {"from": "10.0.0.2", "to": None}},
        apply_id=None,
    ),
    _commit(
        action=ActionName.MOVE,
        moved_from="web-old",
        consumers={"lb": {"backend": "web.ip"}},
        diff={},
        message="",
    ),
    _commit(diff={"huge": {"from": 2**70, "to": 1e-05}, "text": {"from": "é\x00", "to": "\u2028"}}),
]


def _row(commit: Commit) -> tuple[object, ...]:
    stored = rows.commit_row(commit)
    return tuple(stored[column] for column in rows.COMMIT_COLUMNS)


@pytest.mark.parametrize("commit", COMMITS, ids=lambda c: f"{c.action.value}-{len(c.diff)}")
def test_a_rows_body_is_its_commits_body(commit: Commit) -> None:
    """Every field, a move's ``from``, consumers, absent entries, floats and huge integers."""
    body, hash_ = body_from_tuple(_row(commit))
    assert (body, hash_) == (commit.body(), commit.hash)
    assert body == rows.commit_from_tuple(_row(commit)).body()
    assert commit_hash(body, GENESIS_HASH, finite=True) == commit.hash


@pytest.mark.parametrize("commit", COMMITS, ids=lambda c: f"{c.action.value}-{len(c.diff)}")
def test_a_row_written_from_a_body_is_the_commits_row(commit: Commit) -> None:
    assert body_row(commit.body(), commit.hash) == rows.commit_row(commit)
    body, hash_ = body_from_tuple(_row(commit))
    assert body_row(body, hash_) == rows.commit_row(commit)


@pytest.mark.parametrize("commit", COMMITS, ids=lambda c: f"{c.action.value}-{len(c.diff)}")
def test_an_export_line_is_written_the_same_from_a_rows_body(commit: Commit) -> None:
    body, hash_ = body_from_tuple(_row(commit))
    assert lines.body_line(body, hash_) == lines.commit_line(commit)


@pytest.mark.parametrize("commit", COMMITS, ids=lambda c: f"{c.action.value}-{len(c.diff)}")
def test_an_export_line_is_its_commits_body(commit: Commit) -> None:
    """A line as export writes it is taken as it is, and is the commit's body."""
    _, fields = lines.parse(lines.commit_line(commit), 1, "test")
    body, hash_ = line_body(fields)
    assert body is fields
    assert (body, hash_) == (commit.body(), commit.hash)


@pytest.mark.parametrize(
    "change",
    [
        {"drop": "message"},
        {"drop": "reverts"},
        {"set": ("connections", {"after": {"ip": "db.ip"}, "before": {"ip": "db.ip"}})},
        {"set": ("connections", {"before": None, "after": None, "consumers": {}})},
        {"set": ("tags", {"before": None, "after": None, "extra": 1})},
        {"set": ("from", None)},
        {"set": ("reverts", ())},
    ],
)
def test_a_line_in_another_form_is_read_through_commit_from_json(change: dict[str, object]) -> None:
    """Defaults, keys in another order, empty consumers, extra keys: the body and hash are
    those ``Commit.from_json`` gives, as before."""
    _, fields = lines.parse(lines.commit_line(COMMITS[0]), 1, "test")
    if "drop" in change:
        del fields[str(change["drop"])]
    else:
        key, value = change["set"]  # type: ignore[misc]
        fields[key] = value
    expected = Commit.from_json(fields)
    body, hash_ = line_body(dict(fields))
    assert (body, hash_) == (expected.body(), expected.hash)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payload", "{not json"),
        ("payload", '{"d":{"ip":["a"]},"c":[{}],"t":[{}]}'),
        ("payload", '{"d":{},"c":{"before":[["ip","x"]]},"t":[{}]}'),
        ("version", "two"),
        ("version", 2.0),
        ("action", "explode"),
        ("reverts", '"3"'),
        ("hash", "not bytes"),
    ],
)
def test_a_damaged_row_reads_as_its_commit_does(column: str, value: object) -> None:
    """The same exception, or the same body (what verify then hashes)."""
    row = list(_row(COMMITS[0]))
    row[rows.COMMIT_COLUMNS.index(column)] = value
    assert _outcome(lambda: body_from_tuple(row)) == _outcome(
        lambda: (lambda c: (c.body(), c.hash))(rows.commit_from_tuple(row))
    )


def _outcome(decode: Callable[[], object]) -> object:
    try:
        return decode()
    except Exception as error:
        return type(error)
