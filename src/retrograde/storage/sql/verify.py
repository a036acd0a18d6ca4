"""Tamper evidence: re-check the whole log and committed state against each other.

One pass over the commits in revision order, a primary-key batch at a time
(memory holds one batch and the replayed state, never the log):

- revisions run 1, 2, 3, ... without a gap;
- each hash equals SHA-256 over the previous stored hash and the commit's
  content, so editing any field of a commit (or its hash) shows at that
  revision;
- timestamps never decrease (time-range search relies on it);
- replaying the commits from nothing (:func:`replay_commit`) never fails, and
  gives, at each stored snapshot's revision, that snapshot;
- at the end, the replayed state equals the ``resources`` table, resource by
  resource, and the input index holds one row per input of each diff.

The read runs in one transaction (PostgreSQL: repeatable read) so a concurrent
apply cannot make log and state disagree. Problems name the revision or
resource and what is wrong, never an input's value (it could be a secret).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, RowMapping, func, select

from retrograde.errors import CorruptLogError
from retrograde.model.commit import GENESIS_HASH, Commit, commit_hash
from retrograde.model.jsonvalue import canonical
from retrograde.model.reports import Problem, ProblemKind, VerifyReport
from retrograde.model.state import ResourceState
from retrograde.planning.replay import replay_commit
from retrograde.storage.sql import rows, snapshots
from retrograde.storage.sql.export import row_batches
from retrograde.storage.sql.schema import commit_inputs, commits, resources
from retrograde.storage.sql.schema import snapshots as snapshot_table

MAX_PROBLEMS = 100
"""Problems listed at most; the first one is what matters, the rest give the extent."""


@dataclass
class _Walk:
    """Where the pass over the log stands."""

    rev: int = 0
    hash: str = GENESIS_HASH
    timestamp: str | None = None
    commits: int = 0
    inputs: int = 0
    replaying: bool = True
    state: dict[str, ResourceState] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def found(
        self, kind: ProblemKind, detail: str, *, rev: int | None = None, resource: str | None = None
    ) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(kind, detail, rev=rev, resource=resource))


def verify_store(conn: Connection) -> VerifyReport:
    """Check the log and committed state in ``conn`` (see the module docstring)."""
    walk = _Walk()
    snapshot_revs = set(conn.execute(select(snapshot_table.c.rev)).scalars())
    for batch in row_batches(conn, 0, _max_rev(conn)):
        for row in batch:
            commit = _decode(walk, row)
            if commit is not None:
                _check_commit(walk, commit)
                if commit.rev in snapshot_revs and walk.replaying:
                    _check_snapshot(conn, walk, commit.rev)
    if walk.replaying:
        _check_state(conn, walk)
    _check_index(conn, walk)
    return VerifyReport(
        commits=walk.commits,
        head_rev=walk.rev,
        head_hash=walk.hash,
        resources=len(walk.state),
        problems=tuple(walk.problems),
    )


def _max_rev(conn: Connection) -> int:
    return int(conn.execute(select(func.max(commits.c.rev))).scalar() or 0)


def _decode(walk: _Walk, row: RowMapping) -> Commit | None:
    """The commit of ``row``; an unreadable row is a problem and ends the replay."""
    try:
        return rows.commit_from_row(row)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        rev = int(row["rev"])
        walk.found(ProblemKind.UNREADABLE, f"the stored commit cannot be read ({error!r})", rev=rev)
        walk.rev, walk.hash, walk.replaying = rev, rows.hash_text(row["hash"]), False
        return None


def _check_commit(walk: _Walk, commit: Commit) -> None:
    walk.commits += 1
    walk.inputs += len(commit.diff)
    if commit.rev != walk.rev + 1:
        missing = f"rev {walk.rev + 1}" + (
            f" to {commit.rev - 1}" if commit.rev - 1 > walk.rev + 1 else ""
        )
        walk.found(ProblemKind.GAP, f"{missing} missing before it", rev=commit.rev)
    computed = commit_hash(commit.body(), walk.hash)
    if computed != commit.hash:
        walk.found(
            ProblemKind.HASH,
            f"hash mismatch: stored {commit.hash[:12]}…, content and previous hash "
            f"give {computed[:12]}… (the commit or the one before it was altered)",
            rev=commit.rev,
        )
    if walk.timestamp is not None and commit.timestamp < walk.timestamp:
        walk.found(
            ProblemKind.ORDER,
            f"timestamp {commit.timestamp} is earlier than the previous commit's",
            rev=commit.rev,
        )
    _replay(walk, commit)
    walk.rev, walk.hash, walk.timestamp = commit.rev, commit.hash, commit.timestamp


def _replay(walk: _Walk, commit: Commit) -> None:
    if not walk.replaying:
        return
    try:
        replay_commit(walk.state, commit)
    except CorruptLogError as error:
        walk.found(ProblemKind.REPLAY, error.message, rev=commit.rev, resource=commit.resource)
        walk.replaying = False


def _check_snapshot(conn: Connection, walk: _Walk, rev: int) -> None:
    _, stored = snapshots.nearest_snapshot(conn, rev)
    for name, detail in _differences(walk.state, stored)[:1]:
        walk.found(ProblemKind.SNAPSHOT, f"the snapshot here {detail}", rev=rev, resource=name)


def _check_state(conn: Connection, walk: _Walk) -> None:
    committed: dict[str, ResourceState] = {}
    for row in conn.execute(select(resources)).mappings():
        try:
            committed[row["name"]] = rows.state_from_row(row)
        except (ValueError, KeyError, TypeError) as error:
            detail = f"committed state cannot be read ({error!r})"
            walk.found(ProblemKind.STATE, detail, resource=row["name"])
            walk.state.pop(row["name"], None)
    for name, detail in _differences(walk.state, committed):
        walk.found(ProblemKind.STATE, f"committed state {detail}", resource=name)


def _check_index(conn: Connection, walk: _Walk) -> None:
    indexed = int(conn.execute(select(func.count()).select_from(commit_inputs)).scalar() or 0)
    if indexed != walk.inputs:
        walk.found(
            ProblemKind.INDEX,
            f"the input index has {indexed} entries, the commits' diffs have {walk.inputs}",
        )


def _differences(
    expected: Mapping[str, ResourceState], actual: Mapping[str, ResourceState]
) -> list[tuple[str, str]]:
    """``(resource, what differs)`` where ``actual`` departs from ``expected`` (the log)."""
    found: list[tuple[str, str]] = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            found.append((name, "lacks this resource, which the log has"))
        elif name not in expected:
            found.append((name, "has this resource, which the log does not"))
        else:
            parts = _differing_parts(expected[name], actual[name])
            if parts:
                found.append((name, f"differs from the log in {', '.join(parts)}"))
    return found


def _differing_parts(expected: ResourceState, actual: ResourceState) -> list[str]:
    parts = [
        f"input {key!r}"
        for key in sorted(expected.inputs.keys() | actual.inputs.keys())
        if key not in expected.inputs
        or key not in actual.inputs
        or canonical(expected.inputs[key]) != canonical(actual.inputs[key])
    ]
    for label, mine, theirs in (
        ("type", (expected.type, expected.version), (actual.type, actual.version)),
        ("connections", expected.connections, actual.connections),
        ("tags", expected.tags, actual.tags),
    ):
        if canonical(mine) != canonical(theirs):
            parts.append(label)
    return parts
