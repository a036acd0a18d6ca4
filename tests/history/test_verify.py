"""verify: a clean store passes; tampering behind the tool's back is caught and named."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, delete, func, select, update

import retrograde
from retrograde.cli.main import cli
from retrograde.commands import history, transfer
from retrograde.history.verify import _differences
from retrograde.model.reports import ProblemKind
from retrograde.model.state import ResourceState
from retrograde.storage.sql import snapshots
from retrograde.storage.sql.schema import commit_inputs, commits, resources
from retrograde.storage.sql.store import SqlStore
from tests import store_calls

Tamper = Callable[[Connection], None]


@pytest.fixture
def imported(fresh: retrograde.Context, known_export: Path) -> retrograde.Context:
    """A store holding the known history (imported), ready to be tampered with."""
    transfer.import_(fresh, known_export)
    return fresh


def tamper(ctx: retrograde.Context, change: Tamper) -> None:
    """Change the store's tables directly, as someone bypassing retrograde would."""
    assert isinstance(ctx.store, SqlStore)
    with ctx.store.engine.begin() as conn:
        change(conn)


def run_verify(ctx: retrograde.Context, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", ctx.store.url, "verify", *args])
    return result.exit_code, result.output


def test_a_store_written_by_retrograde_verifies(imported: retrograde.Context) -> None:
    """Every hash, the revision sequence and committed state check out; exit code 0."""
    report = history.verify(imported)
    head_rev, head_hash = store_calls.head(imported.store)
    assert report.ok and report.problems == ()
    assert (report.commits, report.head_rev, report.head_hash) == (head_rev, head_rev, head_hash)
    assert report.resources == len(retrograde.state(imported).resources)
    code, output = run_verify(imported)
    assert code == 0 and "verified" in output


def _payload_edit(conn: Connection) -> None:
    payload = conn.execute(select(commits.c.payload).where(commits.c.rev == 3)).scalar_one()
    conn.execute(
        update(commits).where(commits.c.rev == 3).values(payload=payload.replace("10.", "66."))
    )


def _message_edit(conn: Connection) -> None:
    conn.execute(update(commits).where(commits.c.rev == 5).values(message="nothing to see"))


def _hash_edit(conn: Connection) -> None:
    conn.execute(update(commits).where(commits.c.rev == 2).values(hash=bytes(32)))


@pytest.mark.parametrize(
    ("change", "rev"),
    [(_payload_edit, 3), (_message_edit, 5), (_hash_edit, 2)],
    ids=["diff", "message", "hash"],
)
def test_an_edited_commit_is_named_by_its_revision(
    imported: retrograde.Context, change: Tamper, rev: int
) -> None:
    """Changing any stored field of a commit breaks its hash, and verify names that revision."""
    tamper(imported, change)
    report = history.verify(imported)
    first = report.problems[0]
    assert (first.kind, first.rev) == (ProblemKind.HASH, rev)
    code, output = run_verify(imported)
    assert code == 1
    assert f"error: verify failed: rev {rev}: hash mismatch" in output


def test_a_deleted_commit_leaves_a_gap_that_is_named(imported: retrograde.Context) -> None:
    """Deleting a commit row shows as the missing revision (and at the chain entry that
    followed it)."""
    tamper(imported, lambda conn: conn.execute(delete(commits).where(commits.c.rev == 4)))
    problems = history.verify(imported).problems
    gap = next(p for p in problems if p.kind is ProblemKind.GAP)
    assert gap.rev == 5 and "rev 4 missing" in gap.detail
    assert problems[0].kind is ProblemKind.ENTRY and "follows rev 4" in problems[0].detail


def test_deleting_the_newest_commit_shows_in_committed_state(imported: retrograde.Context) -> None:
    """Without its newest commit, the chain entries after it no longer follow, and state no
    longer follows the log."""
    head, _ = store_calls.head(imported.store)
    gone = store_calls.get_commit(imported.store, head)
    tamper(imported, lambda conn: conn.execute(delete(commits).where(commits.c.rev == head)))
    problems = history.verify(imported).problems
    assert problems[0].kind is ProblemKind.ENTRY and f"follows rev {head}" in problems[0].detail
    state = [p for p in problems if p.kind is ProblemKind.STATE]
    assert [p.resource for p in state] == [gone.resource]
    assert ProblemKind.INDEX in [p.kind for p in problems]  # its index rows remain
    code, output = run_verify(imported)
    assert code == 1 and repr(gone.resource) in output


def test_edited_committed_state_names_the_resource_and_input(imported: retrograde.Context) -> None:
    """Changing a resource's inputs behind the tool's back is named, without the value."""
    row = resources.c.name == "node1"

    def edit(conn: Connection) -> None:
        inputs = json.loads(conn.execute(select(resources.c.inputs).where(row)).scalar_one())
        inputs["ip"] = "192.0.2.66"
        conn.execute(update(resources).where(row).values(inputs=json.dumps(inputs)))

    tamper(imported, edit)
    report = history.verify(imported)
    assert [(p.kind, p.resource) for p in report.problems] == [(ProblemKind.STATE, "node1")]
    assert "input 'ip'" in report.problems[0].detail
    assert "192.0.2.66" not in report.problems[0].detail
    code, output = run_verify(imported, "--json")
    assert code == 1
    assert json.loads(output)["problems"][0]["resource"] == "node1"


def test_a_resource_the_log_never_made_is_named(imported: retrograde.Context) -> None:
    """A row added to committed state by hand is reported as unknown to the log."""
    row = {"name": "intruder", "type": "node", "version": 1, "inputs": "{}"}
    tamper(
        imported,
        lambda conn: conn.execute(resources.insert().values(**row, connections="{}", tags="{}")),
    )
    problems = history.verify(imported).problems
    assert [(p.kind, p.resource) for p in problems] == [(ProblemKind.STATE, "intruder")]
    assert "log does not" in problems[0].detail


def test_an_unreadable_commit_is_named(imported: retrograde.Context) -> None:
    """A commit whose stored JSON is broken is reported at its revision, not as a crash."""
    tamper(
        imported,
        lambda conn: conn.execute(update(commits).where(commits.c.rev == 2).values(payload="{")),
    )
    first = history.verify(imported).problems[0]
    assert (first.kind, first.rev) == (ProblemKind.UNREADABLE, 2)


def test_a_snapshot_that_differs_from_the_log_is_named(imported: retrograde.Context) -> None:
    """A stored snapshot (used by state --at) must equal the state the log gives at its revision."""
    head, _ = store_calls.head(imported.store)
    row = resources.c.name == "node2"

    def forged_snapshot(conn: Connection) -> None:
        real = conn.execute(select(resources.c.inputs).where(row)).scalar_one()
        conn.execute(update(resources).where(row).values(inputs='{"ip":"192.0.2.1"}'))
        snapshots.write_snapshot(conn, head)
        conn.execute(update(resources).where(row).values(inputs=real))

    tamper(imported, forged_snapshot)
    problems = history.verify(imported).problems
    assert [(p.kind, p.rev, p.resource) for p in problems] == [
        (ProblemKind.SNAPSHOT, head, "node2")
    ]


def test_a_damaged_input_index_is_reported(imported: retrograde.Context) -> None:
    """The input index must hold one row per input each commit's diff touched."""

    def drop_one(conn: Connection) -> None:
        name, rev = conn.execute(select(commit_inputs.c.name, commit_inputs.c.rev).limit(1)).one()
        conn.execute(
            delete(commit_inputs).where(commit_inputs.c.name == name, commit_inputs.c.rev == rev)
        )

    tamper(imported, drop_one)
    problems = history.verify(imported).problems
    assert [p.kind for p in problems] == [ProblemKind.INDEX]


def test_the_input_index_holds_every_diff_input(imported: retrograde.Context) -> None:
    """Each commit's diff inputs are indexed, no more, no less."""
    assert isinstance(imported.store, SqlStore)
    with imported.store.engine.connect() as conn:
        query = select(commit_inputs.c.name, commit_inputs.c.rev)
        indexed = {(str(name), int(rev)) for name, rev in conn.execute(query)}
        total = conn.execute(select(func.count()).select_from(commits)).scalar_one()
    wanted = {
        (name, c.rev)
        for c in retrograde.log(imported, retrograde.LogQuery(limit=total))
        for name in c.diff
    }
    assert indexed == wanted


def test_a_snapshot_value_of_another_json_kind_is_a_difference() -> None:
    """1, 1.0 and true are equal in Python, not in JSON; None is not NaN; key order is no
    difference."""
    log = {"web": ResourceState("service", 1, {"port": 1, "debug": None})}
    for other in (1.0, True):
        snapshot = {"web": ResourceState("service", 1, {"port": other, "debug": None})}
        assert _differences(log, snapshot) == [("web", "differs from the log in input 'port'")]
    snapshot = {"web": ResourceState("service", 1, {"port": 1, "debug": float("nan")})}
    assert _differences(log, snapshot) == [("web", "differs from the log in input 'debug'")]
    assert _differences(log, {"web": ResourceState("service", 1, {"debug": None, "port": 1})}) == []
