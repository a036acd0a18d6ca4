"""Upgrading a store that kept secrets in clear (schema 0005): sealed once, chain continuity kept.

The old store is made the way the old schema held it: Alembic up to revision
0005, then commits, committed state, a snapshot and a staged change written
through the store's repositories with every secret in clear. Opening it with
this retrograde runs revision 0006 and its data step.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, text

import retrograde
from retrograde.commands import history, transfer
from retrograde.commands.stackfiles import read_stack
from retrograde.engine.committing import commit_changes
from retrograde.model.sealed import is_sealed
from retrograde.planning.diffing import stage_changes
from retrograde.planning.propagation import propagate
from retrograde.storage.repositories import CommitEntry
from retrograde.storage.sql.database import create_store_engine, normalise_url, writer
from retrograde.storage.sql.schema import chain_entries, signatures, staged_moves
from retrograde.storage.sql.snapshots import write_snapshot
from retrograde.storage.sql.transaction import SqlTransaction
from retrograde.storage.sql.upgrade import SCRUBBED_TABLES, alembic_config
from tests import store_calls
from tests.backends import own_database
from tests.secrets.vault import (
    SECRET_V1,
    SECRET_V2,
    raw_pages,
    raw_store,
    relfilenodes,
    write_vault,
)

NOW = "2026-11-30T10:00:00.000000Z"
GOLDEN = Path(__file__).resolve().parent.parent / "data" / "demo-export.jsonl.zst"


def _old_store(url: str, directory: Path) -> tuple[int, str]:
    """A schema-0005 store at ``url``: V1 applied, a snapshot, V2 staged; all in clear.
    Returns its head."""
    engine = create_store_engine(normalise_url(url), url)
    v1 = read_stack(write_vault(directory, "v1.yaml", SECRET_V1))
    v2 = read_stack(write_vault(directory, "v2.yaml", SECRET_V2))
    try:
        with writer(engine).begin() as conn:
            command.upgrade(alembic_config(conn), "0005")
            later = [
                chain_entries,
                signatures,
                staged_moves,
            ]  # tables the code below expects, gone after
            for table in later:
                table.create(conn)
            tx = SqlTransaction(conn, writable=True)
            tx.state.save_types(list(v1.types.values()))
            changes = list(stage_changes({}, propagate(v1.resources)).values())
            apply_id = _old_apply(conn)
            entries = [CommitEntry(change, NOW) for change in changes]
            commit_changes(tx, apply_id, "old", "v1", entries)
            write_snapshot(conn, tx.log.head()[0])
            staged = stage_changes(tx.state.load(), propagate(v2.resources))
            tx.staged.replace(list(staged.values()))
            head = tx.log.head()
            for table in later:
                table.drop(conn)
    finally:
        engine.dispose()
    assert SECRET_V1.encode() in raw_store(url) and SECRET_V2.encode() in raw_store(url)
    return head


def _old_apply(conn: Connection) -> int:
    """An apply row as schema 0005 has them (later revisions add columns)."""
    inserted = conn.execute(
        text(
            "INSERT INTO applies (principal, message, status, started_at, ended_at, succeeded,"
            " failed, skipped, failures, host, pid) VALUES ('old', 'v1', 'succeeded', :now,"
            " :now, 1, 0, 0, '{}', 'vm', 1) RETURNING id"
        ),
        {"now": NOW},
    )
    return int(inserted.scalar_one())


def test_an_old_store_is_sealed_once_and_keeps_its_old_head_hash(
    store_url: str, tmp_path: Path
) -> None:
    """After opening: no secret in clear, verify passes and names the old head hash."""
    old_head = _old_store(store_url, tmp_path)
    with retrograde.open_context(store_url, cwd=tmp_path, principal="tester") as ctx:
        raw = raw_store(store_url)
        assert SECRET_V1.encode() not in raw and SECRET_V2.encode() not in raw
        head = store_calls.head(ctx.store)
        assert head[0] == old_head[0] and head[1] != old_head[1]
        verified = history.verify(ctx)
        assert verified.ok, verified.problems
        [upgrade] = verified.chain_upgrades
        assert (upgrade.old_rev, upgrade.old_hash, upgrade.new_hash) == (*old_head, head[1])
        state = store_calls.load_state(ctx.store)["vault"].inputs["password"]
        [(_rev, snapshot)] = list(_snapshots(ctx))
        assert is_sealed(state) and snapshot["vault"].inputs["password"] == state
        staged = store_calls.load_staged(ctx.store)["vault"]
        assert staged.diff["password"]["from"] == state
    with retrograde.open_context(store_url, cwd=tmp_path, principal="tester") as again:
        assert history.verify(again).chain_upgrades == verified.chain_upgrades
        report = retrograde.apply(again)
        assert report.commits
    assert (tmp_path / "vault.password").read_text() == SECRET_V2
    assert SECRET_V2.encode() not in raw_store(store_url)


def _snapshots(ctx: retrograde.Context) -> list[tuple[int, dict[str, retrograde.ResourceState]]]:
    with ctx.store.read() as tx:
        return list(tx.snapshots.all())


def test_an_old_export_imports_sealed_with_nothing_left_in_clear(
    ctx: retrograde.Context, store_url: str
) -> None:
    """The golden export (secrets in clear) imports sealed: its secrets are in no stored byte."""
    shutil.copy(GOLDEN, ctx.cwd / GOLDEN.name)
    report = transfer.import_(ctx, Path(GOLDEN.name))
    assert report.extra["clear_segments"] == 1
    raw = raw_store(store_url)
    assert b"keystone1" in raw
    assert b"db-secret-1" not in raw and b"mq-secret-1" not in raw
    assert history.verify(ctx).ok


def test_append_onto_an_old_export_restates_the_history_sealed(
    ctx: retrograde.Context, tmp_path: Path
) -> None:
    """The appended segment replaces the clear ones on import: same head, secrets open."""
    shutil.copy(GOLDEN, ctx.cwd / GOLDEN.name)
    transfer.import_(ctx, Path(GOLDEN.name))
    shutil.copy(GOLDEN, ctx.cwd / "grown.jsonl.zst")
    report = transfer.export(ctx, Path("grown.jsonl.zst"), append=True)
    assert report.first_rev == 1 and "replaces" in str(report.extra["warning"])
    copy_url = f"sqlite:///{tmp_path / 'copy' / 'state.db'}"
    with retrograde.open_context(copy_url, cwd=ctx.cwd, principal="tester") as copy:
        imported = transfer.import_(copy, Path("grown.jsonl.zst"))
        assert "clear_segments" not in imported.extra
        assert store_calls.head(copy.store) == store_calls.head(ctx.store)
        assert history.verify(copy).ok
        sealed = store_calls.load_state(copy.store)["db"].inputs["password"]
        assert copy.keys.box().open("db", "password", sealed) == "db-secret-1"
    again = transfer.export(ctx, Path("grown.jsonl.zst"), append=True)
    assert again.commits == 0


@pytest.mark.postgresql
def test_an_old_postgresql_store_has_its_rewritten_tables_rebuilt(tmp_path: Path) -> None:
    """Each table the sealing rewrites gets a new file (``VACUUM (FULL)``), and no visible
    row holds a secret; the page reader saw the clear values before.

    Whether the pages are then free of old row versions depends on every transaction open
    on the server meanwhile (``VACUUM (FULL)`` keeps those one of them might see), so it is
    not asserted: run alone, they are."""
    for url in own_database():
        _old_store(url, tmp_path)
        assert SECRET_V1.encode() in raw_pages(url), "the page reader sees the clear values"
        before = relfilenodes(url, SCRUBBED_TABLES)
        with retrograde.open_context(url, cwd=tmp_path, principal="tester") as ctx:
            assert history.verify(ctx).ok
        after = relfilenodes(url, SCRUBBED_TABLES)
        assert [t for t in SCRUBBED_TABLES if before[t] == after[t]] == []
        raw = raw_store(url)
        assert SECRET_V1.encode() not in raw and SECRET_V2.encode() not in raw


@pytest.mark.postgresql
def test_an_old_export_imported_on_postgresql_has_its_tables_rebuilt(tmp_path: Path) -> None:
    """The tables an import wrote clear values into before sealing them get new files."""
    shutil.copy(GOLDEN, tmp_path / GOLDEN.name)
    for url in own_database():
        with retrograde.open_context(url, cwd=tmp_path, principal="tester") as ctx:
            before = relfilenodes(url, SCRUBBED_TABLES)
            transfer.import_(ctx, Path(GOLDEN.name))
        after = relfilenodes(url, SCRUBBED_TABLES)
        assert [t for t in SCRUBBED_TABLES if before[t] == after[t]] == []
        assert b"db-secret-1" not in raw_store(url)
